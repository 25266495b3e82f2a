import SocprofCLI

SocprofCommand.runMain()
