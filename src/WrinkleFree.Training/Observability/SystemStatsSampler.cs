using System.Diagnostics;
using System.Globalization;

namespace WrinkleFree.Training.Observability;

/// <summary>
/// Samples process CPU and RSS on every call, and queries nvidia-smi at most once per <see cref="GpuInterval"/> (it costs
/// a process start); without nvidia-smi on the PATH the GPU fields stay null.
/// </summary>
public sealed class SystemStatsSampler
{
    /// <summary>How often nvidia-smi is queried.</summary>
    public static readonly TimeSpan GpuInterval = TimeSpan.FromSeconds(60);

    private readonly TimeProvider _time;
    private readonly string? _nvidiaSmi;
    private long _lastTimestamp;
    private TimeSpan _lastCpu;
    private long _lastGpuTimestamp;
    private (double Util, double Used, double Total)? _gpu;

    /// <summary>Creates a sampler on <paramref name="time"/>; nvidia-smi is looked up once on the PATH.</summary>
    public SystemStatsSampler(TimeProvider time)
    {
        _time = time;
        _nvidiaSmi = FindOnPath("nvidia-smi");
        _lastTimestamp = time.GetTimestamp();
        using var process = Process.GetCurrentProcess();
        _lastCpu = process.TotalProcessorTime;
    }

    /// <summary>Whether nvidia-smi was found.</summary>
    public bool HasGpu => _nvidiaSmi is not null;

    /// <summary>Takes a sample.</summary>
    public SystemStats Sample()
    {
        using var process = Process.GetCurrentProcess();
        var now = _time.GetTimestamp();
        var cpu = process.TotalProcessorTime;
        var wall = _time.GetElapsedTime(_lastTimestamp, now).TotalSeconds;
        var percent = wall > 0 ? (cpu - _lastCpu).TotalSeconds / wall * 100 : 0;
        _lastTimestamp = now;
        _lastCpu = cpu;
        if (_nvidiaSmi is not null && (_gpu is null || _time.GetElapsedTime(_lastGpuTimestamp, now) >= GpuInterval))
        {
            _gpu = QueryGpu(_nvidiaSmi);
            _lastGpuTimestamp = now;
        }

        return new SystemStats
        {
            CpuPercent = Math.Round(percent, 1),
            RssBytes = process.WorkingSet64,
            GpuUtilizationPercent = _gpu?.Util,
            GpuMemoryUsedMiB = _gpu?.Used,
            GpuMemoryTotalMiB = _gpu?.Total,
        };
    }

    private static (double, double, double)? QueryGpu(string nvidiaSmi)
    {
        try
        {
            var psi = new ProcessStartInfo(nvidiaSmi, "--query-gpu=utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var p = Process.Start(psi)!;
            var line = p.StandardOutput.ReadLine();
            if (!p.WaitForExit(10_000) || line is null)
            {
                return null;
            }

            var parts = line.Split(',', StringSplitOptions.TrimEntries);
            return parts.Length >= 3
                && double.TryParse(parts[0], CultureInfo.InvariantCulture, out var util)
                && double.TryParse(parts[1], CultureInfo.InvariantCulture, out var used)
                && double.TryParse(parts[2], CultureInfo.InvariantCulture, out var total)
                ? (util, used, total)
                : null;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return null;
        }
    }

    private static string? FindOnPath(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
