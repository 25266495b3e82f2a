/// The built-in networks, by the names the command line takes.
public enum NetworkCatalog {
    /// In the order of the study "Neural Network Inference on Mobile SoCs" lists them.
    public static let names = ["alexnet", "googlenet", "mobilenet", "resnet50", "squeezenet", "squeezenet-1.1"]

    /// The network called `named` (one of `names`), or nil. Each call builds a fresh graph.
    public static func network(named name: String) -> Network? {
        switch name {
        case "alexnet": .alexnet()
        case "googlenet": .googlenet()
        case "mobilenet": .mobilenet()
        case "resnet50": .resnet50()
        case "squeezenet": .squeezenet()
        case "squeezenet-1.1": .squeezenet11()
        default: nil
        }
    }
}
