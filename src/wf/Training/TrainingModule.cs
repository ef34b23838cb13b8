using System.CommandLine;
using WrinkleFree.Cli;

namespace Wf.Training;

/// <summary><c>wf train ...</c>: the BitNet Distillation stages, their export, and their configuration-error exit code.</summary>
internal sealed class TrainingModule : ICommandModule
{
    public void Register(RootCommand root, CliContext context)
    {
        new TrainCommands(context).Register(root);
        new TrainStageCommands(context).Register(root);
    }

    public int? ReportParseErrors(ParseResult parse, CliContext context) => TrainStageCommands.ReportParseErrors(parse, context);
}
