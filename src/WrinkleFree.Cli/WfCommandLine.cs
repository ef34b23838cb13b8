using System.CommandLine;

namespace WrinkleFree.Cli;

/// <summary>The <c>wf</c> command line shared by every build: the verb groups that need no TorchSharp, plus the build's modules.</summary>
public static class WfCommandLine
{
    /// <summary>The root command with every common verb group and <paramref name="modules"/>.</summary>
    public static RootCommand Create(IReadOnlyList<ICommandModule> modules)
    {
        ArgumentNullException.ThrowIfNull(modules);
        var root = new RootCommand("wf: serve and train 1.58-bit (ternary) language models on commodity CPUs.");
        ModelCommands.Register(root);
        GenerateCommand.Register(root);
        BenchCommand.Register(root);
        ReplicaCommand.Register(root);
        ServiceCommands.Register(root);
        JobsCommands.Register(root);
        foreach (var module in modules)
        {
            module.Register(root);
        }

        return root;
    }

    /// <summary>Parses and runs <paramref name="args"/>; returns the process exit code.</summary>
    public static async Task<int> RunAsync(string[] args, IReadOnlyList<ICommandModule> modules)
    {
        var parse = Create(modules).Parse(args);
        var code = await parse.InvokeAsync().ConfigureAwait(false);
        foreach (var module in modules)
        {
            code = module.ExitCode(parse, code);
        }

        return code;
    }
}
