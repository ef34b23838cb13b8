using WrinkleFree.Cli;

// The serving wf: everything a replica node or a service controller runs (wf replica, wf up/status/logs/down, wf model,
// wf generate, wf bench, wf jobs) and no TorchSharp/libtorch; `wf train` says where the full build is.
return await WfCommandLine.RunAsync(args, [new TrainingUnavailableModule()]);
