using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;

namespace WrinkleFree.Cli;

/// <summary><c>wf model inspect|synth</c>: look inside GGUF files and make synthetic ternary models.</summary>
internal sealed class ModelCommands(CliContext context)
{
    public void Register(RootCommand root)
    {
        var model = new Command("model", "Inspect GGUF model files and create synthetic ternary models.");
        model.Subcommands.Add(Inspect());
        model.Subcommands.Add(Synth());
        root.Subcommands.Add(model);
    }

    private Command Inspect()
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
                    context.Out.WriteLine(JsonSerializer.Serialize(Describe(gguf), CliJson.Options));
                }
                else
                {
                    Render(gguf);
                }

                return ExitCodes.Success;
            }
            catch (Exception e) when (e is GgufFormatException or IOException)
            {
                context.Error.WriteLine($"error: {e.Message}");
                return ExitCodes.InvalidInput;
            }
        });
        return cmd;
    }

    private Command Synth()
    {
        var shape = new Option<string>("--shape") { Description = "Model shape: tiny, 700m or 2b4t.", DefaultValueFactory = _ => "tiny" };
        shape.AcceptOnlyFromAmong("tiny", "700m", "2b4t");
        var type = new Option<string>("--type") { Description = "Ternary weight type: i2_s, tq2_0, tq1_0, q2_0, or ik_llama.cpp's iq2_bn / iq1_bn.", DefaultValueFactory = _ => "tq2_0" };
        type.AcceptOnlyFromAmong("i2_s", "tq2_0", "tq1_0", "q2_0", "iq2_bn", "iq1_bn");
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
            context.Console.Progress().Start(ctx =>
            {
                var task = ctx.AddTask($"synth {s.Name} {t}", maxValue: 1);
                SyntheticModel.Write(path, s, t, parse.GetValue(seed), e, new Progress<double>(v => task.Value = v));
                task.Value = 1;
            });
            context.Out.WriteLine($"wrote {path} ({new FileInfo(path).Length:N0} bytes)");
            return ExitCodes.Success;
        });
        return cmd;
    }

    private static GgmlType ParseType(string name) => name switch
    {
        "i2_s" => GgmlType.I2_S,
        "tq2_0" => GgmlType.TQ2_0,
        "tq1_0" => GgmlType.TQ1_0,
        "q2_0" => GgmlType.Q2_0,
        "iq2_bn" => GgmlType.IQ2_BN,
        "iq1_bn" => GgmlType.IQ1_BN,
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

    private void Render(GgufFile gguf)
    {
        var summary = new CliTable("property", "value") { Border = TableBorder.Rounded };
        summary.AddRow("file", gguf.Path);
        summary.AddRow("GGUF version", gguf.Version.ToString(CultureInfo.InvariantCulture));
        summary.AddRow("architecture", gguf.Architecture);
        summary.AddRow("parameters", $"{gguf.Tensors.Sum(t => t.ElementCount):N0}");
        summary.AddRow("bytes", $"{gguf.Length:N0}");
        foreach (var group in gguf.Tensors.GroupBy(t => t.Type).OrderByDescending(g => g.Sum(t => t.ByteSize)))
        {
            summary.AddRow($"  {group.Key}", $"{group.Count()} tensors, {group.Sum(t => t.ElementCount):N0} params, {group.Sum(t => t.ByteSize):N0} bytes");
        }

        var meta = new CliTable("key", "value") { Border = TableBorder.Simple };
        foreach (var key in gguf.Metadata.Keys)
        {
            // A summary of each value, not the value: chat templates and merges run to kilobytes. --json has them whole.
            var text = gguf.Metadata[key].ToString();
            meta.AddRow(key, text.Length > 80 ? text[..77] + "..." : text);
        }

        var tensors = new CliTable("tensor", "type", "shape", "bytes") { Border = TableBorder.Simple };
        foreach (var t in gguf.Tensors)
        {
            tensors.AddRow(t.Name, t.Type.ToString(), string.Join(" x ", t.Shape), $"{t.ByteSize:N0}");
        }

        CliTable.WriteAll(context, summary, meta, tensors);
    }
}
