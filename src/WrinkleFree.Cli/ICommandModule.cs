using System.CommandLine;

namespace WrinkleFree.Cli;

/// <summary>
/// A verb group a <c>wf</c> build adds beyond the ones every build has: the full build adds <c>wf train</c> (TorchSharp),
/// the serving build adds nothing heavy, so a replica node carries no libtorch.
/// </summary>
public interface ICommandModule
{
    /// <summary>Adds the group's commands to <paramref name="root"/>.</summary>
    void Register(RootCommand root);

    /// <summary>The exit code for a finished parse; lets a group map its parse errors to its own code.</summary>
    int ExitCode(ParseResult parse, int invoked) => invoked;
}
