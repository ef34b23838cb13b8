using System.Reflection;

namespace WrinkleFree.Cli;

/// <summary>Where this very <c>wf</c> is, so it can start itself (daemon, job controllers) and put itself on PATH.</summary>
internal static class WfSelf
{
    /// <summary>
    /// The entry assembly (wf.dll of whichever build runs: full or serving), not this library: under <c>dotnet wf.dll</c>
    /// the child must run the same build. Empty in a single-file publish, where the apphost itself is the command.
    /// </summary>
    public static string EntryDll => Assembly.GetEntryAssembly()?.Location is { Length: > 0 } location
        ? location
        : throw new InvalidOperationException("cannot tell which wf.dll is running; run wf through its apphost");
}
