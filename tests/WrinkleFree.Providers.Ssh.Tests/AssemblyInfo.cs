// The node scripts and the test double run on Linux only (/bin/sh, /proc).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
