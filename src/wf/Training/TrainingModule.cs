using System.CommandLine;
using WrinkleFree.Cli;

namespace Wf.Training;

/// <summary><c>wf train ...</c>: the BitNet Distillation stages, their export, and their configuration-error exit code.</summary>
internal sealed class TrainingModule : ICommandModule
{
    public void Register(RootCommand root)
    {
        TrainCommands.Register(root);
        TrainStageCommands.Register(root);
    }

    public int ExitCode(ParseResult parse, int invoked) => TrainStageCommands.ExitCode(parse, invoked);
}
