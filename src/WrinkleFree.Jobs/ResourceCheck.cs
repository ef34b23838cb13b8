using System.Diagnostics;
using System.Globalization;

namespace WrinkleFree.Jobs;

/// <summary>Whether this machine has what a task's <c>resources:</c> asks for; the answer is a reason it does not, or null.</summary>
internal static class ResourceCheck
{
    public static string? Problem(TaskResources resources)
    {
        if (resources.Cpus is { } cpus && Amount(cpus) > Environment.ProcessorCount)
        {
            return $"the task asks for cpus: {cpus} and this machine has {Environment.ProcessorCount}";
        }

        if (resources.Memory is { } memory && MemoryGiB() is { } total && Amount(memory) > total)
        {
            return string.Create(CultureInfo.InvariantCulture, $"the task asks for memory: {memory} (GiB) and this machine has {total:0.#} GiB");
        }

        if (resources.Accelerators is { } accelerators)
        {
            var colon = accelerators.LastIndexOf(':');
            var wanted = colon > 0 && double.TryParse(accelerators.AsSpan(colon + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var n) ? n : 1;
            var gpus = GpuCount();
            if (wanted > gpus)
            {
                return $"the task asks for accelerators: {accelerators} and nvidia-smi lists {gpus} GPU(s) here";
            }
        }

        return null;
    }

    private static double Amount(string text) => double.Parse(text.TrimEnd('+'), NumberStyles.Float, CultureInfo.InvariantCulture);

    private static double? MemoryGiB()
    {
        try
        {
            var line = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
            var kb = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
            return kb is null ? null : long.Parse(kb, CultureInfo.InvariantCulture) / (1024.0 * 1024.0);
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static int GpuCount()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("nvidia-smi", "-L") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
            if (process is null)
            {
                return 0;
            }

            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit(10_000);
            return output.Split('\n').Count(l => l.StartsWith("GPU ", StringComparison.Ordinal));
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return 0;
        }
    }
}
