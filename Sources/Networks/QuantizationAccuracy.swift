/// How closely a quantized network follows its fp32 form on the same images: both run on the
/// same images and their logits (the input of the final softmax, or the last layer's output) are
/// compared (`QuantizationAccuracy.measure` in Kernels runs them).
public struct QuantizationAccuracy: Codable, Sendable, Equatable {
    /// Images compared.
    public let images: Int
    /// Fraction of the images whose top-1 class is the same in both (0...1).
    public let top1_agreement: Double
    /// Fraction of the images whose fp32 top-1 class is among the quantized network's top 5.
    public let top5_contains_top1: Double
    /// Cosine similarity of the two logit vectors, mean and least over the images (1 = same direction).
    public let mean_cosine: Double
    public let min_cosine: Double
    /// The largest |quantized logit - fp32 logit| over all images and classes, over the largest
    /// |fp32 logit| (a relative error of the logits).
    public let max_relative_logit_error: Double

    public init(images: Int, top1_agreement: Double, top5_contains_top1: Double, mean_cosine: Double, min_cosine: Double,
                max_relative_logit_error: Double) {
        self.images = images
        self.top1_agreement = top1_agreement
        self.top5_contains_top1 = top5_contains_top1
        self.mean_cosine = mean_cosine
        self.min_cosine = min_cosine
        self.max_relative_logit_error = max_relative_logit_error
    }

    /// The figures from pairs of logit vectors (reference, quantized), one pair per image.
    public init(pairs: [(reference: [Float], quantized: [Float])]) {
        precondition(!pairs.isEmpty, "accuracy needs at least one image")
        var agree = 0, top5 = 0, cosSum = 0.0, cosMin = Double.infinity, maxErr = 0.0, maxRef = 0.0
        for (r, q) in pairs {
            precondition(r.count == q.count && !r.isEmpty, "logit vectors of different lengths")
            let best = Self.argmax(r)
            if best == Self.argmax(q) { agree += 1 }
            if Self.top(5, q).contains(best) { top5 += 1 }
            var dot = 0.0, nr = 0.0, nq = 0.0
            for k in r.indices {
                let a = Double(r[k]), b = Double(q[k])
                dot += a * b
                nr += a * a
                nq += b * b
                maxErr = max(maxErr, abs(a - b))
                maxRef = max(maxRef, abs(a))
            }
            let cos = nr > 0 && nq > 0 ? dot / (nr.squareRoot() * nq.squareRoot()) : (nr == nq ? 1 : 0)
            cosSum += cos
            cosMin = min(cosMin, cos)
        }
        let n = Double(pairs.count)
        self.init(images: pairs.count, top1_agreement: Double(agree) / n, top5_contains_top1: Double(top5) / n, mean_cosine: cosSum / n,
                  min_cosine: cosMin, max_relative_logit_error: maxRef > 0 ? maxErr / maxRef : maxErr)
    }


    static func argmax(_ v: [Float]) -> Int { v.indices.max { v[$0] < v[$1] || (v[$0] == v[$1] && $0 > $1) } ?? 0 }

    static func top(_ k: Int, _ v: [Float]) -> [Int] { Array(v.indices.sorted { v[$0] > v[$1] || (v[$0] == v[$1] && $0 < $1) }.prefix(k)) }
}
