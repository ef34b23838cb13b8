using WrinkleFree.Platform.Home;
using WrinkleFree.Service.Daemon;
using WrinkleFree.Service.Spec;

namespace WrinkleFree.Cli;

/// <summary>
/// What every command that talks to the daemon says when that goes wrong: one line naming the cause and what to do
/// next (a spec error, the daemon's own error, the daemon gone, not running), instead of a stack trace.
/// </summary>
internal static class DaemonCalls
{
    /// <summary>Runs <paramref name="body"/>, turning the errors a user can cause into one line and an exit code.</summary>
    public static async Task<int> GuardAsync(CliContext context, Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (ServiceSpecException e)
        {
            return Fail(context, e.Message);
        }
        catch (DaemonApiException e)
        {
            return Fail(context, e.Message);
        }
        catch (HttpRequestException e)
        {
            return Fail(context, $"lost the wf daemon ({e.Message}); see {Path.Combine(WfHome.Logs(context.Home), "daemon.log")}; its supervisor restarts it, and `wf up` starts one if none runs");
        }
        catch (OperationCanceledException)
        {
            return ExitCodes.Cancelled;
        }
    }

    /// <summary>The daemon is not running: say so and how to start it.</summary>
    public static int NoDaemon(CliContext context) =>
        Fail(context, $"the wf daemon is not running (no live {Path.Combine(context.Home, DaemonInfo.FileName)}); `wf up SPEC` starts it");

    /// <summary>Writes "error: MESSAGE" and returns <see cref="ExitCodes.Failure"/>.</summary>
    public static int Fail(CliContext context, string message)
    {
        context.Error.WriteLine($"error: {message}");
        return ExitCodes.Failure;
    }
}
