// The test double's containers are Linux processes (kill -TERM, /bin/sh).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
