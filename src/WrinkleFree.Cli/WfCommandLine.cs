using System.CommandLine;
using WrinkleFree.Providers.Ssh.Sessions;

namespace WrinkleFree.Cli;

/// <summary>The <c>wf</c> command line shared by every build: the verb groups that need no TorchSharp, plus the build's modules.</summary>
public static class WfCommandLine
{
    /// <summary>
    /// How long a command has, once Ctrl-C or SIGTERM has cancelled its token, before System.CommandLine ends the process
    /// anyway (exit 130 or 143). A <see cref="DrainingCommand"/> is never cut short: it bounds its own shutdown.
    /// </summary>
    public static readonly TimeSpan TerminationGrace = TimeSpan.FromSeconds(2);

    /// <summary>The root command with every common verb group and <paramref name="modules"/>, all writing to <paramref name="context"/>.</summary>
    public static RootCommand Create(IReadOnlyList<ICommandModule> modules, CliContext context)
    {
        ArgumentNullException.ThrowIfNull(modules);
        ArgumentNullException.ThrowIfNull(context);
        var root = new RootCommand("wf: serve and train 1.58-bit (ternary) language models on commodity CPUs.");
        new ModelCommands(context).Register(root);
        new GenerateCommand(context).Register(root);
        new BenchCommand(context).Register(root);
        new ReplicaCommand(context).Register(root);
        new ServiceCommands(context).Register(root);
        new DaemonCommands(context).Register(root);
        new ValidateCommand(context).Register(root);
        new EventsCommand(context).Register(root);
        new ExportCommands(context).Register(root);
        new KeysCommands(context).Register(root);
        new CostCommand(context).Register(root);
        new SshCommands(context, SshPoolLoader.For(context.Home), acceptNew => new SshNetConnector(SshConnectOptions.ForHome(context.Home, acceptNew), context.Time)).Register(root);
        new JobsCommands(context).Register(root);
        foreach (var module in modules)
        {
            module.Register(root, context);
        }

        return root;
    }

    /// <summary>Parses and runs <paramref name="args"/> on this process's console and clock; returns the process exit code.</summary>
    public static Task<int> RunAsync(string[] args, IReadOnlyList<ICommandModule> modules) =>
        RunAsync(args, modules, CliContext.FromConsole(), CancellationToken.None);

    /// <summary>Parses and runs <paramref name="args"/> against <paramref name="context"/>; returns the process exit code.</summary>
    public static async Task<int> RunAsync(string[] args, IReadOnlyList<ICommandModule> modules, CliContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(modules);
        ArgumentNullException.ThrowIfNull(context);
        var parse = Create(modules, context).Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var module in modules)
            {
                if (module.ReportParseErrors(parse, context) is { } code)
                {
                    return code;
                }
            }
        }

        var configuration = new InvocationConfiguration
        {
            Output = context.Out,
            Error = context.Error,
            // Ctrl-C and SIGTERM reach commands as their cancellation token (System.CommandLine registers the handlers).
            ProcessTerminationTimeout = parse.CommandResult.Command is DrainingCommand ? Timeout.InfiniteTimeSpan : TerminationGrace,
        };
        return await parse.InvokeAsync(configuration, cancellationToken).ConfigureAwait(false);
    }
}
