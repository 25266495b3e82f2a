import Kernels

/// How the convolution benchmarks time a layer on the input the network computed for it: the
/// layers are visited in order, and before a chosen layer is handed over, it and every layer
/// before it have run on the runner. A layer's output slot never overlaps its inputs, so
/// running the chosen layer again and again (timing it) leaves its input intact.
enum ComputedInputs {
    /// Calls `body(i)` for each index of `indices` in increasing order, once layers 1...i have
    /// run on `runner` (whose input must be set): layer i's input and its fp32 output are in
    /// the runner's arena.
    static func forEach(_ indices: [Int], runner: NetworkRunner, _ body: (Int) -> Void) {
        var done = 0 // layers run so far on the current image
        for i in Set(indices).sorted() where i > 0 {
            for j in (done + 1)...i { runner.runLayer(j) }
            done = i
            body(i)
        }
    }
}
