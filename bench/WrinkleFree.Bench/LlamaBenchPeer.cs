using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using WrinkleFree.Inference.Gguf;

namespace WrinkleFree.Bench;

/// <summary>
/// An external peer for the engine bench: any <c>llama-bench</c> binary the user built (upstream llama.cpp or
/// ik_llama.cpp), run on a model file of the same synthetic weights with the same method (prompt 64 / decode 64, one
/// repetition per round, interleaved with ours). <c>--peer NAME=PATH[:TYPE]</c>: TYPE is the weight type it runs
/// (tq2_0 by default; iq2_bn or iq1_bn for ik_llama.cpp's own ternary types), <c>--peer-args</c> extra arguments for
/// every peer (e.g. "-rtr 1" for ik_llama.cpp's run-time repacking).
/// </summary>
internal sealed record LlamaBenchPeer(string Name, string Binary, GgmlType Type, IReadOnlyList<string> ExtraArgs)
{
    /// <summary>Every <c>--peer</c> of <paramref name="args"/>; throws naming a bad one.</summary>
    public static List<LlamaBenchPeer> Parse(string[] args)
    {
        var extra = BenchArgs.Arg(args, "--peer-args") is { } text ? text.Split(' ', StringSplitOptions.RemoveEmptyEntries) : [];
        var peers = new List<LlamaBenchPeer>();
        for (var i = 0; i < args.Length - 1; i++)
        {
            if (args[i] != "--peer")
                continue;
            var spec = args[i + 1];
            var eq = spec.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
                throw new ArgumentException($"--peer {spec}: write NAME=PATH[:TYPE], e.g. ik=/src/ik_llama.cpp/build/bin/llama-bench:iq2_bn");
            var (name, rest) = (spec[..eq], spec[(eq + 1)..]);
            var colon = rest.LastIndexOf(':');
            var (path, type) = colon > 0 ? (rest[..colon], rest[(colon + 1)..]) : (rest, "tq2_0");
            if (!File.Exists(path))
                throw new ArgumentException($"--peer {spec}: no llama-bench binary at {path}; build it (docs/benchmarks.md says how)");
            peers.Add(new LlamaBenchPeer(name, path, type switch
            {
                "tq2_0" => GgmlType.TQ2_0,
                "tq1_0" => GgmlType.TQ1_0,
                "iq2_bn" => GgmlType.IQ2_BN,
                "iq1_bn" => GgmlType.IQ1_BN,
                _ => throw new ArgumentException($"--peer {spec}: type must be tq2_0, tq1_0, iq2_bn or iq1_bn, got '{type}'"),
            }, extra));
        }

        return peers;
    }

    /// <summary>Runs one repetition of prompt <paramref name="prompt"/> / decode <paramref name="decode"/> at <paramref name="threads"/>; returns both rates.</summary>
    public (double PrefillTokensPerSecond, double DecodeTokensPerSecond) Measure(string model, int threads, int prompt, int decode)
    {
        var start = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in (string[])["-m", model, "-p", Str(prompt), "-n", Str(decode), "-t", Str(threads), "-r", "1", "-o", "json"])
            start.ArgumentList.Add(a);
        foreach (var a in ExtraArgs)
            start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{Binary} did not start");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{Name} ({Binary}) exited with {process.ExitCode}: {Tail(stderr.Result)}");
        using var json = JsonDocument.Parse(stdout);
        double pp = 0, tg = 0;
        foreach (var row in json.RootElement.EnumerateArray())
        {
            var rate = row.GetProperty("avg_ts").GetDouble();
            if (row.GetProperty("n_gen").GetInt32() > 0)
                tg = rate;
            else
                pp = rate;
        }

        return (pp, tg);
    }

    private static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Tail(string text) => text.Length > 600 ? text[^600..] : text;
}
