// The test doubles run instances as Linux processes (kill -TERM).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
