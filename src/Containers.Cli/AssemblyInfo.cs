// The tool runs containers with the runtime host's Linux backends and starts detached supervisors with setsid: Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
