using Wf.Training;
using WrinkleFree.Cli;

// The full wf: every verb group, including `wf train` (TorchSharp + libtorch). Serving nodes run src/wf-serving instead.
return await WfCommandLine.RunAsync(args, [new TrainingModule()]);
