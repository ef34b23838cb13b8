using System.CommandLine;

namespace WrinkleFree.Cli;

/// <summary>
/// <c>wf train</c> in the serving build: the build leaves TorchSharp and libtorch out on purpose, so the verb says so and
/// where the full <c>wf</c> is, instead of "unrecognized command".
/// </summary>
public sealed class TrainingUnavailableModule : ICommandModule
{
    /// <summary>What <c>wf train</c> prints in this build.</summary>
    public const string Message =
        "error: this wf is the serving build (no TorchSharp/libtorch), which has no `wf train`; training runs from the full wf " +
        "(dotnet run --project src/wf -c Release -- train ..., or publish src/wf; see the README)";

    /// <summary>Exit code of <c>wf train</c> here: the command exists in wf, not in this build.</summary>
    public const int ExitCode = ExitCodes.InvalidInput;

    public void Register(RootCommand root, CliContext context)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(context);
        var train = new Command("train", "Not in this build: the serving wf carries no TorchSharp. Use the full wf (src/wf) to train.")
        {
            TreatUnmatchedTokensAsErrors = false,
        };
        train.SetAction(_ =>
        {
            context.Error.WriteLine(Message);
            return ExitCode;
        });
        root.Subcommands.Add(train);
    }
}
