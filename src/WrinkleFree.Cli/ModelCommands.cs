using System.CommandLine;
using System.Text.Json;
using Spectre.Console;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;

namespace WrinkleFree.Cli;

/// <summary><c>wf model inspect|synth</c>: look inside GGUF files and make synthetic ternary models.</summary>
internal static class ModelCommands
{
    public static void Register(RootCommand root)
    {
        var model = new Command("model", "Inspect GGUF model files and create synthetic ternary models.");
        model.Subcommands.Add(Inspect());
        model.Subcommands.Add(Synth());
        root.Subcommands.Add(model);
    }

    private static Command Inspect()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "GGUF model file to inspect." };
        var json = new Option<bool>("--json") { Description = "Print machine-readable JSON instead of tables." };
        var cmd = new Command("inspect", "Show a GGUF file's metadata, tensors, types, parameter count and bytes.") { file, json };
        cmd.SetAction(parse =>
        {
            var path = parse.GetValue(file)!.FullName;
            try
            {
                using var gguf = GgufFile.Open(path);
                if (parse.GetValue(json))
                {
                    Console.WriteLine(JsonSerializer.Serialize(Describe(gguf), CliJson.Options));
                }
                else
                {
                    Render(gguf);
                }

                return 0;
            }
            catch (Exception e) when (e is GgufFormatException or IOException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
        });
        return cmd;
    }

    private static Command Synth()
    {
        var shape = new Option<string>("--shape") { Description = "Model shape: tiny, 700m or 2b4t.", DefaultValueFactory = _ => "tiny" };
        shape.AcceptOnlyFromAmong("tiny", "700m", "2b4t");
        var type = new Option<string>("--type") { Description = "Ternary weight type: i2_s, tq2_0 or tq1_0.", DefaultValueFactory = _ => "tq2_0" };
        type.AcceptOnlyFromAmong("i2_s", "tq2_0", "tq1_0");
        var embedding = new Option<string?>("--embedding-type") { Description = "Embedding type: f16 or q8_0 (default: f16 for tiny, q8_0 otherwise)." };
        embedding.AcceptOnlyFromAmong("f16", "q8_0");
        var seed = new Option<int>("--seed") { Description = "Random seed; the same seed gives the same weights in every type.", DefaultValueFactory = _ => 1 };
        var output = new Option<FileInfo>("--out", "-o") { Description = "Output GGUF path.", Required = true };
        var cmd = new Command("synth", "Write a deterministic random ternary model (llama.cpp 'bitnet' architecture) with a small real vocabulary.")
        {
            shape, type, embedding, seed, output,
        };
        cmd.SetAction(parse =>
        {
            var s = SyntheticShape.Find(parse.GetValue(shape)!);
            var t = ParseType(parse.GetValue(type)!);
            var e = parse.GetValue(embedding) is { } name ? ParseType(name) : (GgmlType?)null;
            var path = parse.GetValue(output)!.FullName;
            AnsiConsole.Progress().Start(ctx =>
            {
                var task = ctx.AddTask($"synth {s.Name} {t}", maxValue: 1);
                SyntheticModel.Write(path, s, t, parse.GetValue(seed), e, new Progress<double>(v => task.Value = v));
                task.Value = 1;
            });
            Console.WriteLine($"wrote {path} ({new FileInfo(path).Length:N0} bytes)");
            return 0;
        });
        return cmd;
    }

    private static GgmlType ParseType(string name) => name switch
    {
        "i2_s" => GgmlType.I2_S,
        "tq2_0" => GgmlType.TQ2_0,
        "tq1_0" => GgmlType.TQ1_0,
        "f16" => GgmlType.F16,
        "q8_0" => GgmlType.Q8_0,
        _ => throw new ArgumentException($"unknown type '{name}'"),
    };

    private static object Describe(GgufFile gguf) => new
    {
        path = gguf.Path,
        version = gguf.Version,
        bytes = gguf.Length,
        architecture = gguf.Architecture,
        parameters = gguf.Tensors.Sum(t => t.ElementCount),
        alignment = gguf.Alignment,
        metadata = gguf.Metadata.Keys.ToDictionary(k => k, k => MetadataJson(gguf.Metadata[k])),
        tensors = gguf.Tensors.Select(t => new { name = t.Name, type = t.Type.ToString(), shape = t.Shape, offset = t.FileOffset, bytes = t.ByteSize }),
    };

    private static object MetadataJson(GgufValue v) => v.Value is Array { Length: > 32 } a
        ? new { type = $"array<{v.ElementType}>", length = a.Length }
        : v.Value;

    private static void Render(GgufFile gguf)
    {
        var summary = new Table().AddColumns("property", "value").Border(TableBorder.Rounded);
        summary.AddRow("file", Markup.Escape(gguf.Path));
        summary.AddRow("GGUF version", gguf.Version.ToString());
        summary.AddRow("architecture", Markup.Escape(gguf.Architecture));
        summary.AddRow("parameters", $"{gguf.Tensors.Sum(t => t.ElementCount):N0}");
        summary.AddRow("bytes", $"{gguf.Length:N0}");
        foreach (var group in gguf.Tensors.GroupBy(t => t.Type).OrderByDescending(g => g.Sum(t => t.ByteSize)))
        {
            summary.AddRow($"  {group.Key}", $"{group.Count()} tensors, {group.Sum(t => t.ElementCount):N0} params, {group.Sum(t => t.ByteSize):N0} bytes");
        }

        AnsiConsole.Write(summary);
        var meta = new Table().AddColumns("key", "value").Border(TableBorder.Simple);
        foreach (var key in gguf.Metadata.Keys)
        {
            var text = gguf.Metadata[key].ToString();
            meta.AddRow(Markup.Escape(key), Markup.Escape(text.Length > 80 ? text[..77] + "..." : text));
        }

        AnsiConsole.Write(meta);
        var tensors = new Table().AddColumns("tensor", "type", "shape", "bytes").Border(TableBorder.Simple);
        foreach (var t in gguf.Tensors)
        {
            tensors.AddRow(Markup.Escape(t.Name), t.Type.ToString(), string.Join(" x ", t.Shape), $"{t.ByteSize:N0}");
        }

        AnsiConsole.Write(tensors);
    }
}
