import SystemPackage

extension Errno {
    /// The symbolic name ("ENOENT") for the errors socprof's messages meet, else the number.
    public var name: String {
        switch self {
        case .noSuchFileOrDirectory: "ENOENT"
        case .permissionDenied: "EACCES"
        case .notPermitted: "EPERM"
        case .invalidArgument: "EINVAL"
        case .notSupported: "EOPNOTSUPP"
        case .operationNotSupportedByDevice: "ENODEV"
        case .resourceBusy: "EBUSY"
        case .tooManyOpenFiles: "EMFILE"
        case .tooManyOpenFilesInSystem: "ENFILE"
        case .noMemory: "ENOMEM"
        case .argListTooLong: "E2BIG"
        case .noSuchProcess: "ESRCH"
        case .badFileDescriptor: "EBADF"
        case .badAddress: "EFAULT"
        case .noSpace: "ENOSPC"
        case .interrupted: "EINTR"
        case .ioError: "EIO"
        default: "\(rawValue)"
        }
    }
}
