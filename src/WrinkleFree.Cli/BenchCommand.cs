using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using WrinkleFree.Inference.Benchmarking;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;

namespace WrinkleFree.Cli;

/// <summary>
/// <c>wf bench engine</c>: this engine on a synthetic model in TQ2_0 and I2_S, prefill/decode at several thread counts,
/// aggregate decode with concurrent sequences, and the memory roofline measured in the same run (also step by step:
/// decode steps interleaved with probe passes, see EngineBenchmark.Interleaved). The llama.cpp columns
/// come from bench/WrinkleFree.Bench, which runs the same measurements next to LLamaSharp.
/// </summary>
internal sealed class BenchCommand(CliContext context)
{
    public void Register(RootCommand root)
    {
        var bench = new Command("bench", "Measure performance (ratios against a reference measured in the same run).");
        var shape = new Option<string>("--shape") { Description = "Synthetic model shape.", DefaultValueFactory = _ => "2b4t" };
        shape.AcceptOnlyFromAmong("tiny", "700m", "2b4t");
        var threads = new Option<int[]>("--threads") { Description = "Thread counts to measure.", DefaultValueFactory = _ => [1, 2], AllowMultipleArgumentsPerToken = true };
        var prompt = new Option<int>("--prompt") { Description = "Prompt tokens (prefill).", DefaultValueFactory = _ => 64 };
        var decode = new Option<int>("--decode") { Description = "Decoded tokens.", DefaultValueFactory = _ => 64 };
        var concurrency = new Option<int[]>("--concurrency") { Description = "Concurrent sequences for the aggregate decode rows.", DefaultValueFactory = _ => [1, 4, 16], AllowMultipleArgumentsPerToken = true };
        var cache = new Option<DirectoryInfo>("--cache") { Description = "Where the synthetic models are kept between runs.", DefaultValueFactory = _ => new DirectoryInfo(Path.Combine(context.Home, "bench")) };
        var json = new Option<bool>("--json") { Description = "Print the rows as JSON." };
        var engine = new Command("engine", "Prefill/decode tokens/s of this engine on a synthetic ternary model, and GB/s against the measured memory roofline.")
        {
            shape, threads, prompt, decode, concurrency, cache, json,
        };
        engine.SetAction(parse =>
        {
            var s = SyntheticShape.Find(parse.GetValue(shape)!);
            var dir = parse.GetValue(cache)!.FullName;
            var rows = new List<EngineBenchmarkResult>();
            var rooflines = new Dictionary<int, double>();
            var interleaved = new List<InterleavedRoofline>();
            foreach (var type in (GgmlType[])[GgmlType.TQ2_0, GgmlType.I2_S])
            {
                var path = EnsureModel(dir, s, type);
                using var model = Model.Load(path);
                foreach (var t in parse.GetValue(threads)!)
                {
                    var roof = rooflines.TryGetValue(t, out var r) ? r : rooflines[t] = EngineBenchmark.MeasureRoofline(t);
                    rows.Add(EngineBenchmark.Single(model, t, parse.GetValue(prompt), parse.GetValue(decode), roof));
                }

                if (type == GgmlType.TQ2_0)
                {
                    // The roofline asked step by step: each decode step against probe passes of its bytes right around it.
                    foreach (var t in parse.GetValue(threads)!)
                    {
                        interleaved.Add(EngineBenchmark.Interleaved(model, t, steps: Math.Max(8, parse.GetValue(decode))));
                    }
                }

                if (type == GgmlType.TQ2_0)
                {
                    var t = parse.GetValue(threads)!.Max();
                    foreach (var c in parse.GetValue(concurrency)!)
                    {
                        rows.Add(EngineBenchmark.Concurrent(model, t, c, contextTokens: 32, decodeSteps: Math.Max(8, parse.GetValue(decode) / 2)));
                    }
                }
            }

            if (parse.GetValue(json))
            {
                context.Out.WriteLine(JsonSerializer.Serialize(new { shape = s.Name, roofline_gbps = rooflines, rows, interleaved }, CliJson.Options));
                return ExitCodes.Success;
            }

            var table = new CliTable("engine", "type", "threads", "seqs", "prefill tok/s", "decode tok/s", "GB/s", "roofline") { Border = TableBorder.Rounded };
            foreach (var row in rows)
            {
                table.AddRow(row.Engine, row.Type, row.Threads.ToString(CultureInfo.InvariantCulture), row.Sequences.ToString(CultureInfo.InvariantCulture),
                    row.PrefillTokensPerSecond is { } p ? $"{p:F1}" : "",
                    $"{row.DecodeTokensPerSecond:F1}",
                    row.EffectiveGBps is { } g ? $"{g:F1}" : "",
                    row.RooflineFraction is { } f ? $"{f:P0}" : "");
            }

            table.Write(context);
            foreach (var (t, gb) in rooflines)
            {
                context.Out.WriteLine($"memory read bandwidth, {t} thread(s): {gb:F1} GB/s");
            }

            foreach (var i in interleaved)
            {
                context.Out.WriteLine($"roofline interleaved, TQ2_0, {i.Threads} thread(s): {i.Describe()}");
            }

            return ExitCodes.Success;
        });
        bench.Subcommands.Add(engine);
        root.Subcommands.Add(bench);
    }

    private string EnsureModel(string dir, SyntheticShape shape, GgmlType type)
    {
        var path = "";
        context.Console.Progress().Start(ctx =>
        {
            var task = ctx.AddTask($"model {shape.Name} {type}", maxValue: 1);
            path = EngineBenchmark.EnsureSyntheticModel(dir, shape, type, new Progress<double>(v => task.Value = v));
            task.Value = 1;
        });
        return path;
    }
}
