using System.CommandLine;
using System.Text.Json;
using WrinkleFree.Cli;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Training.Export;
using WrinkleFree.Training.Model;

namespace Wf.Training;

/// <summary>
/// <c>wf train ...</c>: the BitNet Distillation pipeline. One private method builds each subcommand; adding a stage is one
/// method plus one line in <see cref="Register"/>.
/// </summary>
internal sealed class TrainCommands(CliContext context)
{
    /// <summary>Files copied from a teacher checkpoint to a student so the export can embed the tokenizer.</summary>
    private static readonly string[] TokenizerFiles = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"];

    public void Register(RootCommand root)
    {
        var train = new Command("train", "Convert full-precision checkpoints to 1.58-bit models (BitNet Distillation) and export them as GGUF.");
        train.Subcommands.Add(Stage1());
        train.Subcommands.Add(Export());
        root.Subcommands.Add(train);
    }

    private Command Stage1()
    {
        var teacher = new Option<DirectoryInfo>("--teacher") { Description = "Full-precision Hugging Face checkpoint directory (config.json + safetensors).", Required = true };
        var output = new Option<DirectoryInfo>("--out", "-o") { Description = "Output checkpoint directory for the ternary student.", Required = true };
        var subln = new Option<bool>("--subln") { Description = "Insert SubLN before o_proj and down_proj (the default)." };
        var noSubln = new Option<bool>("--no-subln") { Description = "Do not insert SubLN (ablation; such a model cannot be exported as wrinklefree GGUF)." };
        var json = new Option<bool>("--json") { Description = "Print a JSON summary." };
        var cmd = new Command("stage1", "Stage 1: replace every linear layer except embeddings and LM head by BitLinear and insert SubLN. No training.")
        {
            teacher, output, subln, noSubln, json,
        };
        cmd.SetAction(parse =>
        {
            if (parse.GetValue(subln) && parse.GetValue(noSubln))
            {
                return Fail("--subln and --no-subln contradict each other; give at most one");
            }

            var from = parse.GetValue(teacher)!.FullName;
            var to = parse.GetValue(output)!.FullName;
            var insert = !parse.GetValue(noSubln);
            var started = context.Time.GetTimestamp();
            return Run(() =>
            {
                using var model = CausalLanguageModel.Load(from);
                using var student = SubLnConverter.Convert(model, insert);
                student.Save(to);
                foreach (var file in TokenizerFiles.Where(f => File.Exists(Path.Combine(from, f))))
                {
                    File.Copy(Path.Combine(from, file), Path.Combine(to, file), overwrite: true);
                }

                var summary = new
                {
                    teacher = from,
                    @out = to,
                    subln = student.Config.SubLn,
                    ternary_layers = student.BitLinearLayers().Count,
                    parameters = student.parameters().Sum(p => p.numel()),
                    seconds = context.Time.GetElapsedTime(started).TotalSeconds,
                };
                Print(parse.GetValue(json), summary,
                    $"wrote {to}: {summary.ternary_layers} BitLinear layers, {summary.parameters:N0} parameters, subln={summary.subln}");
            });
        });
        return cmd;
    }

    private Command Export()
    {
        var checkpoint = new Option<DirectoryInfo>("--checkpoint") { Description = "Checkpoint directory (config.json, model.safetensors, tokenizer.json).", Required = true };
        var output = new Option<FileInfo>("--out", "-o") { Description = "Output GGUF file.", Required = true };
        var type = new Option<string>("--type") { Description = "Ternary weight type: i2_s or tq2_0.", DefaultValueFactory = _ => "i2_s" };
        type.AcceptOnlyFromAmong("i2_s", "tq2_0");
        var embeddings = new Option<string>("--embeddings") { Description = "Embedding (and LM head) type: q8_0 or f16.", DefaultValueFactory = _ => "q8_0" };
        embeddings.AcceptOnlyFromAmong("q8_0", "f16");
        var json = new Option<bool>("--json") { Description = "Print a JSON summary." };
        var cmd = new Command("export",
            "Write a checkpoint as GGUF for the engine: a ternary student as 'wrinklefree' (I2_S/TQ2_0), a full-precision teacher as qwen3/llama F16.")
        {
            checkpoint, output, type, embeddings, json,
        };
        cmd.SetAction(parse =>
        {
            var dir = parse.GetValue(checkpoint)!.FullName;
            var path = parse.GetValue(output)!.FullName;
            var options = new GgufExportOptions
            {
                TernaryType = parse.GetValue(type) == "tq2_0" ? GgmlType.TQ2_0 : GgmlType.I2_S,
                EmbeddingType = parse.GetValue(embeddings) == "f16" ? GgmlType.F16 : GgmlType.Q8_0,
            };
            return Run(() =>
            {
                using var model = CausalLanguageModel.Load(dir);
                var tokenizer = TokenizerData.Load(dir, model.Config);
                GgufExporter.Export(model, tokenizer, path, options);
                var summary = new
                {
                    checkpoint = dir,
                    @out = path,
                    architecture = GgufExporter.Architecture(model.Config),
                    ternary_type = model.Config.Ternary ? options.TernaryType.ToString() : null,
                    embedding_type = options.EmbeddingType.ToString(),
                    bytes = new FileInfo(path).Length,
                };
                Print(parse.GetValue(json), summary, $"wrote {path} ({summary.architecture}, {summary.bytes:N0} bytes)");
            });
        });
        return cmd;
    }

    /// <summary>Runs a step and turns the errors a user can cause (bad checkpoint, unsupported model) into one line and exit 2.</summary>
    private int Run(Action action)
    {
        try
        {
            action();
            return ExitCodes.Success;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or ArgumentException
            or UnauthorizedAccessException or KeyNotFoundException or JsonException or InvalidOperationException)
        {
            return Fail(e.Message);
        }
    }

    private int Fail(string message)
    {
        context.Error.WriteLine($"error: {message}");
        return ExitCodes.InvalidInput;
    }

    private void Print(bool json, object summary, string text) =>
        context.Out.WriteLine(json ? JsonSerializer.Serialize(summary, CliJson.Options) : text);
}
