using System.CommandLine;

namespace WrinkleFree.Cli;

/// <summary>
/// A command that shuts itself down on Ctrl-C or SIGTERM, however long that takes: `wf replica` finishes its in-flight
/// requests (bounded by its own --drain-timeout), `wf daemon` stops its controllers. System.CommandLine cancels its token
/// as for any command but does not force the process out after its usual grace (see <see cref="WfCommandLine"/>).
/// </summary>
internal sealed class DrainingCommand(string name, string? description = null) : Command(name, description);
