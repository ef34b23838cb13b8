using System.Diagnostics;

namespace WrinkleFree.Testing.Kubernetes;

/// <summary>A pod's container as a real child process listening on a loopback port; killed with its tree on dispose.</summary>
public sealed class ProcessPodContainer : IPodContainer
{
    private readonly Process _process;
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ProcessPodContainer(Process process, int port)
    {
        _process = process;
        LoopbackPort = port;
    }

    public int LoopbackPort { get; }

    public Task<int> Exited => _exited.Task;

    public PodLog Log { get; } = new();

    /// <summary>Starts <paramref name="start"/> (its output is captured) as a container listening on 127.0.0.1:<paramref name="port"/>.</summary>
    public static ProcessPodContainer Start(ProcessStartInfo start, int port)
    {
        ArgumentNullException.ThrowIfNull(start);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var container = new ProcessPodContainer(process, port);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) container.Log.Append(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) container.Log.Append(e.Data); };
        process.Exited += (_, _) => _ = Task.Run(async () =>
        {
            // The last lines arrive after the exit event: wait for the streams to end before closing the log.
            await process.WaitForExitAsync();
            container.Log.Close();
            container._exited.TrySetResult(process.ExitCode);
        });
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return container;
    }

    /// <summary>Runs the pod's own container command (e.g. bash with a job's run: script) here, with the pod's environment.</summary>
    public static ProcessPodContainer RunCommand(PodContainerStart start)
    {
        ArgumentNullException.ThrowIfNull(start);
        var command = start.Pod.Spec.Containers[0].Command;
        var info = new ProcessStartInfo(command[0]) { WorkingDirectory = start.FilesFolder };
        foreach (var argument in command.Skip(1))
            info.ArgumentList.Add(argument);
        foreach (var (key, value) in start.Environment)
            info.Environment[key] = value;
        return Start(info, start.LoopbackPort);
    }

    public async Task StopAsync(TimeSpan grace)
    {
        if (_exited.Task.IsCompleted)
            return;
        try
        {
            if (grace > TimeSpan.Zero)
            {
                using var term = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false });
                if (term is not null)
                    await term.WaitForExitAsync();
                if (await Task.WhenAny(_exited.Task, Task.Delay(grace)) == _exited.Task)
                    return;
            }

            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Exited meanwhile.
        }

        await _exited.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
                _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Gone already.
        }

        await Task.WhenAny(_exited.Task, Task.Delay(TimeSpan.FromSeconds(5)));
        _process.Dispose();
    }
}
