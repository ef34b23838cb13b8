using System.CommandLine;

namespace WrinkleFree.Cli;

/// <summary>
/// A verb group a <c>wf</c> build adds beyond the ones every build has: the full build adds <c>wf train</c> (TorchSharp),
/// the serving build adds nothing heavy, so a replica node carries no libtorch.
/// </summary>
public interface ICommandModule
{
    /// <summary>Adds the group's commands to <paramref name="root"/>; they write to and read the time from <paramref name="context"/>.</summary>
    void Register(RootCommand root, CliContext context);

    /// <summary>
    /// Called when <paramref name="parse"/> has errors: a module that owns the command reports them itself and returns the
    /// exit code; null leaves them to System.CommandLine (the errors, then help, exit <see cref="ExitCodes.Failure"/>).
    /// </summary>
    int? ReportParseErrors(ParseResult parse, CliContext context) => null;
}
