import ArgumentParser
import Networks

/// `--precision fp32|int8|int8-weights`: help lists the values.
extension Precision: ExpressibleByArgument {}
