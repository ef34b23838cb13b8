using System.CommandLine;
using WrinkleFree.Cli;

var root = new RootCommand("wf: serve and train 1.58-bit (ternary) language models on commodity CPUs.");
ModelCommands.Register(root);
GenerateCommand.Register(root);
BenchCommand.Register(root);
ReplicaCommand.Register(root);
ServiceCommands.Register(root);
TrainCommands.Register(root);
JobsCommands.Register(root);
TrainStageCommands.Register(root);

var parse = root.Parse(args);
return TrainStageCommands.ExitCode(parse, await parse.InvokeAsync());
