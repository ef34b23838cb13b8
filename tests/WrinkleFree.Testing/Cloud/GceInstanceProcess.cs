using System.Diagnostics;

namespace WrinkleFree.Testing.Cloud;

/// <summary>
/// A process a <see cref="GceApiTestDouble.Runner"/> starts for an instance: <c>/bin/sh -c SCRIPT</c> with the given
/// environment. Disposing it is the VM going away: SIGTERM first (GCE gives a preempted VM a short ACPI shutdown), then
/// a kill of the whole tree after <see cref="GracePeriod"/>.
/// </summary>
public sealed class GceInstanceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private bool _disposed;

    private GceInstanceProcess(Process process) => _process = process;

    public TimeSpan GracePeriod { get; init; } = TimeSpan.FromSeconds(10);

    public int Id => _process.Id;

    /// <summary>The process ended (by itself, or because the instance went away).</summary>
    public bool HasExited => _disposed || _process.HasExited;

    public static GceInstanceProcess Start(string script, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardOutput = false, RedirectStandardError = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(script);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
            info.Environment[key] = value;
        return new GceInstanceProcess(Process.Start(info) ?? throw new InvalidOperationException("cannot start /bin/sh"));
    }

    /// <summary>Waits (bounded by <paramref name="timeout"/>) for the process to end by itself.</summary>
    public Task WaitForExitAsync(TimeSpan timeout) => _process.WaitForExitAsync().WaitAsync(timeout);

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
            return;
        _disposed = true;
        if (!_process.HasExited)
        {
            using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                await term.WaitForExitAsync();
            try
            {
                await _process.WaitForExitAsync().WaitAsync(GracePeriod);
            }
            catch (TimeoutException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
    }
}
