// Process groups, /proc and Unix file modes: these tests describe Linux behaviour.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
