using System.CommandLine;
using System.CommandLine.Parsing;
using System.Text.Json;
using WrinkleFree.Cli;
using WrinkleFree.Jobs.Checkpoints;
using WrinkleFree.Training.Data;
using WrinkleFree.Training.Stages;
using static Wf.Training.TrainOptions;

namespace Wf.Training;

/// <summary>
/// <c>wf train teacher|stage1.9|stage2|stage3</c>: the trainable stages, all on <see cref="StageTrainer"/>. Exit codes are
/// what the job runner relies on: 0 done, <see cref="ExitCodes.ConfigurationError"/> (do not retry),
/// <see cref="ExitCodes.OutOfMemory"/> (do not retry), anything else (crash, signal) is retried. Options are typed and
/// range-checked by the parser (see <see cref="TrainOptions"/>); <see cref="ReportParseErrors"/> turns every parse error
/// under <c>wf train</c> into a configuration error.
/// </summary>
internal sealed class TrainStageCommands(CliContext context)
{
    // The defaults --help shows and the parser falls back to are StageOptions' and TeacherShape's own, written once there.
    private static readonly StageOptions Defaults = new() { OutputDirectory = "" };

    /// <summary>Adds the stage subcommands to the <c>wf train</c> that <see cref="TrainCommands.Register"/> created.</summary>
    public void Register(RootCommand root)
    {
        var train = root.Subcommands.Single(c => c.Name == "train");
        train.Subcommands.Add(Teacher());
        train.Subcommands.Add(Stage19());
        train.Subcommands.Add(Stage2());
        train.Subcommands.Add(Stage3());
    }

    /// <summary>
    /// System.CommandLine reports its own parse errors (unknown option, missing or bad value, missing required option,
    /// value outside the allowed set) with help and exit 1, which the job runner would retry. Under <c>wf train</c> they
    /// are configuration errors: one "error: ..." line each (the job runner quotes the last line) and exit 64, so a bad
    /// task fails at once. Null for a parse outside <c>wf train</c>.
    /// </summary>
    public static int? ReportParseErrors(ParseResult parse, CliContext context)
    {
        ArgumentNullException.ThrowIfNull(parse);
        ArgumentNullException.ThrowIfNull(context);
        if (parse.Errors.Count == 0 || !IsUnderTrain(parse.CommandResult))
        {
            return null;
        }

        if (parse.CommandResult.Command.Action is null)
        {
            // `wf train` alone: say where the list of stages is before the error.
            context.Error.WriteLine($"`wf {string.Join(' ', CommandPath(parse.CommandResult))} --help` lists its commands");
        }

        foreach (var error in parse.Errors)
        {
            // One line each, even for the parser's multi-line messages ("Must be one of:" and a line per value).
            var message = string.Join(' ', error.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            context.Error.WriteLine($"error: {message}");
        }

        return ExitCodes.ConfigurationError;
    }

    private static bool IsUnderTrain(SymbolResult? result)
    {
        for (var r = result; r is not null; r = r.Parent)
        {
            if (r is CommandResult { Command.Name: "train", Parent: CommandResult { Command: RootCommand } })
            {
                return true;
            }
        }

        return false;
    }

    private static IEnumerable<string> CommandPath(CommandResult result) =>
        result.Parent is CommandResult parent and not { Command: RootCommand } ? CommandPath(parent).Append(result.Command.Name) : [result.Command.Name];

    private Command Teacher()
    {
        var cmd = new Command("teacher", "Train a small full-precision Qwen3/LLaMA-style teacher (and a byte-level BPE tokenizer) from scratch.");
        var common = new CommonOptions(cmd);
        var shape = Defaults.Teacher;
        var modelType = Choice("--model-type", "qwen3 or llama.", shape.ModelType, ("qwen3", "qwen3"), ("llama", "llama"));
        var vocab = Number("--vocab-size", "BPE vocabulary size trained on the data.", shape.VocabSize, v => v > 0, "positive");
        var hidden = Number("--hidden", "Hidden size.", shape.HiddenSize, v => v > 0, "positive");
        var layers = Number("--layers", "Decoder layers.", shape.Layers, v => v > 0, "positive");
        var heads = Number("--heads", "Attention heads.", shape.Heads, v => v > 0, "positive");
        var kvHeads = Number("--kv-heads", "Key/value heads (GQA).", shape.KeyValueHeads, v => v > 0, "positive");
        var ffn = Number("--ffn", "SwiGLU intermediate size.", shape.IntermediateSize, v => v > 0, "positive");
        AddAll(cmd, modelType, vocab, hidden, layers, heads, kvHeads, ffn);
        cmd.SetAction((parse, ct) => RunAsync(TrainingStage.Teacher, parse, () => common.Read(parse) with
        {
            Teacher = new TeacherShape
            {
                ModelType = parse.GetValue(modelType)!,
                VocabSize = parse.GetValue(vocab),
                HiddenSize = parse.GetValue(hidden),
                Layers = parse.GetValue(layers),
                Heads = parse.GetValue(heads),
                KeyValueHeads = parse.GetValue(kvHeads),
                IntermediateSize = parse.GetValue(ffn),
            },
        }, ct));
        return cmd;
    }

    private Command Stage19()
    {
        var cmd = new Command("stage1.9", "Layer-wise hidden-state distillation from the full-precision teacher plus the LM loss (on a stage-1 model).");
        var common = new CommonOptions(cmd);
        var teacher = Text("--teacher", "Full-precision teacher checkpoint directory.", required: true);
        var model = Text("--model", "Student checkpoint directory (the output of wf train stage1).", required: true);
        var weight = Number("--hidden-weight", "Weight of the hidden-state distillation term.", Defaults.HiddenStateWeight, v => v >= 0, "0 or more");
        AddAll(cmd, teacher, model, weight);
        cmd.SetAction((parse, ct) => RunAsync(TrainingStage.Stage19, parse, () => common.Read(parse) with
        {
            TeacherDirectory = parse.GetValue(teacher),
            ModelDirectory = parse.GetValue(model),
            HiddenStateWeight = parse.GetValue(weight),
        }, ct));
        return cmd;
    }

    private Command Stage2()
    {
        var cmd = new Command("stage2", "Continued pretraining with the LM loss (on a stage-1 or stage-1.9 model; on a stage-1 model it is the plain ternary fine-tune baseline).");
        var common = new CommonOptions(cmd);
        var model = Text("--model", "Checkpoint directory to continue from.", required: true);
        cmd.Options.Add(model);
        cmd.SetAction((parse, ct) => RunAsync(TrainingStage.Stage2, parse, () => common.Read(parse) with
        {
            ModelDirectory = parse.GetValue(model),
        }, ct));
        return cmd;
    }

    private Command Stage3()
    {
        var cmd = new Command("stage3", "Distillation fine-tuning: CE + λ·KL(teacher ‖ student, T) + γ·MiniLM attention relation at one layer.");
        var common = new CommonOptions(cmd);
        var teacher = Text("--teacher", "Full-precision teacher checkpoint directory.", required: true);
        var model = Text("--model", "Student checkpoint directory.", required: true);
        var kl = Number("--kl-weight", "λ, weight of the logit KL (paper: 10 classification, 1 summarization).", Defaults.KlWeight, v => v >= 0, "0 or more");
        var ar = Number("--ar-weight", "γ, weight of the attention-relation loss (paper: 1e5 classification, 1e3 summarization).", Defaults.AttentionRelationWeight, v => v >= 0, "0 or more");
        var temperature = Number("--temperature", "KL temperature.", Defaults.Temperature, v => v > 0 && double.IsFinite(v), "positive");
        var layer = OptionalNumber<int>("--ar-layer", "0-based layer of the attention-relation loss (default: the last).", v => v >= 0, "0 or more");
        var relationHeads = Number("--relation-heads", "Relation heads the Q/K/V dimension is split into.", Defaults.RelationHeads, v => v > 0, "positive");
        AddAll(cmd, teacher, model, kl, ar, temperature, layer, relationHeads);
        cmd.SetAction((parse, ct) => RunAsync(TrainingStage.Stage3, parse, () => common.Read(parse) with
        {
            TeacherDirectory = parse.GetValue(teacher),
            ModelDirectory = parse.GetValue(model),
            KlWeight = parse.GetValue(kl),
            AttentionRelationWeight = parse.GetValue(ar),
            Temperature = parse.GetValue(temperature),
            AttentionRelationLayer = parse.GetValue(layer),
            RelationHeads = parse.GetValue(relationHeads),
        }, ct));
        return cmd;
    }

    private static void AddAll(Command cmd, params Option[] options)
    {
        foreach (var option in options)
        {
            cmd.Options.Add(option);
        }
    }

    private async Task<int> RunAsync(TrainingStage stage, ParseResult parse, Func<StageOptions> read, CancellationToken cancellationToken)
    {
        StageOptions options;
        try
        {
            // The stage commands take unknown tokens instead of failing the parse, so that the message can say which
            // ones and where the stage's options are listed (task files misspell settings: `learning_rat: 0.1`).
            if (parse.UnmatchedTokens.Count > 0)
            {
                throw new TrainingConfigurationException($"unknown argument(s): {string.Join(' ', parse.UnmatchedTokens)} (see wf train {StageTrainer.Name(stage)} --help)");
            }

            options = read() with { TimeProvider = context.Time };
            // Checked before the trainer creates OUT or opens anything, so a bad store leaves nothing behind.
            if (options.CheckpointStore is { } store && CheckpointStores.Problem(store) is { } problem)
            {
                throw new TrainingConfigurationException(problem);
            }
        }
        catch (Exception e) when (e is TrainingConfigurationException or DataSourceException)
        {
            return Fail(ExitCodes.ConfigurationError, e.Message);
        }

        try
        {
            var result = await StageTrainer.RunAsync(stage, options, cancellationToken).ConfigureAwait(false);
            if (options.Json)
            {
                context.Out.WriteLine(JsonSerializer.Serialize(new
                {
                    stage = StageTrainer.Name(stage),
                    steps = result.Steps,
                    resumed_from_step = result.ResumedFromStep,
                    heldout_perplexity = double.IsFinite(result.HeldOutPerplexity) ? result.HeldOutPerplexity : (double?)null,
                    tokens_per_second = result.TokensPerSecond,
                    @out = result.OutputDirectory,
                }));
            }

            return ExitCodes.Success;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl-C or SIGTERM: the newest checkpoint is where a rerun (or the job runner's retry) resumes.
            return Fail(ExitCodes.Cancelled, $"{StageTrainer.Name(stage)} stopped before its last step; run it again to resume from the newest checkpoint");
        }
        catch (Exception e) when (e is TrainingConfigurationException or DataSourceException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException)
        {
            return Fail(ExitCodes.ConfigurationError, e.Message);
        }
        catch (CheckpointStoreException e)
        {
            // A store that failed at run time (credentials, a bucket that is gone, retries spent): one line, and the job
            // runner may retry, since an outage passes.
            return Fail(ExitCodes.Failure, e.Message);
        }
        catch (Exception e) when (IsOutOfMemory(e))
        {
            return Fail(ExitCodes.OutOfMemory, $"out of memory: {e.Message} (use a smaller --batch-size or --seq-len, or a smaller model)");
        }
    }

    private static bool IsOutOfMemory(Exception e) =>
        e is OutOfMemoryException
        || e.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase)
        || e.Message.Contains("can't allocate memory", StringComparison.OrdinalIgnoreCase)
        || (e.InnerException is { } inner && IsOutOfMemory(inner));

    private int Fail(int code, string message)
    {
        context.Error.WriteLine($"error: {message}");
        return code;
    }

    /// <summary>The options every stage shares.</summary>
    private sealed class CommonOptions
    {
        private readonly Option<string> _data = Text("--data",
            "brown (brown:LETTERS for some genres, e.g. brown:klmnpr = the fiction; brown:-LETTERS for all but those), a .txt file (documents separated by two blank lines) or a .jsonl file.",
            Defaults.Data.ToString());
        private readonly Option<string> _textField = Text("--text-field", "JSONL field holding the text.", Defaults.Data.TextField);
        private readonly Option<int> _seqLen = Number("--seq-len", "Tokens per packed sequence.", Defaults.SequenceLength, v => v >= 2, "at least 2");
        private readonly Option<int> _batch = Number("--batch-size", "Sequences per micro-batch.", Defaults.BatchSize, v => v >= 1, "at least 1");
        private readonly Option<int> _accum = Number("--grad-accum", "Micro-batches per optimizer step.", Defaults.GradientAccumulation, v => v >= 1, "at least 1");
        private readonly Option<long> _steps = Number("--steps", "Optimizer steps.", Defaults.Steps, v => v > 0, "positive");
        private readonly Option<double> _lr = Number("--lr", "Peak learning rate.", Defaults.LearningRate, v => v > 0 && double.IsFinite(v), "positive");
        private readonly Option<LearningRateScheduleKind> _schedule = Choice("--schedule", "cosine, wsd (warmup-stable-decay) or constant.", Defaults.Schedule,
            ("cosine", LearningRateScheduleKind.Cosine), ("wsd", LearningRateScheduleKind.Wsd), ("constant", LearningRateScheduleKind.Constant));
        private readonly Option<long> _warmup = Number("--warmup", "Learning-rate warm-up steps.", Defaults.WarmupSteps, v => v >= 0, "0 or more");
        private readonly Option<double> _minLr = Number("--min-lr-ratio", "Final learning rate as a fraction of the peak.", Defaults.MinLearningRateRatio, v => v is >= 0 and <= 1, "in [0, 1]");
        private readonly Option<double> _weightDecay = Number("--weight-decay", "AdamW weight decay.", Defaults.WeightDecay, v => v >= 0, "0 or more");
        private readonly Option<double> _clip = Number("--grad-clip", "Gradient-norm clip (0: none).", Defaults.GradientClip, v => v >= 0, "0 (none) or more");
        private readonly Option<long> _lambdaWarmup = Number("--lambda-warmup", "Steps over which BitLinear λ rises 0→1 (0: ternary from the start).", Defaults.LambdaWarmupSteps, v => v >= 0, "0 or more");
        private readonly Option<long> _seed = Number("--seed", "Seed of the weights' initialisation and the data order.", Defaults.Seed, _ => true, "");
        private readonly Option<string> _out = Text("--out", "Output checkpoint directory.", required: true);
        private readonly Option<string> _store = Text("--checkpoint-store", "Checkpoint folder, s3://bucket/prefix, r2://ACCOUNT/bucket/prefix, gs://bucket/prefix or az://account/container/prefix (default: OUT/checkpoints).");
        private readonly Option<CheckpointMode> _mode = Choice("--checkpoint-mode", "copy or mount_cached (either case).", Defaults.CheckpointMode,
            ("copy", CheckpointMode.Copy), ("mount_cached", CheckpointMode.MountCached));
        private readonly Option<int> _every = Number("--checkpoint-every", "Checkpoint every N steps (0: never).", Defaults.CheckpointEvery, v => v >= 0, "0 (never) or more");
        private readonly Option<int> _keep = Number("--keep-last-n", "Checkpoints kept (0: all).", Defaults.KeepLastN, v => v >= 0, "0 (keep all) or more");
        private readonly Option<string> _metrics = Text("--metrics-jsonl", "Metrics JSONL file (a .prom file for node_exporter is written beside it).");
        private readonly Option<int?> _port = OptionalNumber<int>("--metrics-port", "Serve Prometheus /metrics on 127.0.0.1:PORT.", v => v is > 0 and < 65536, "1..65535");
        private readonly Option<int> _logEvery = Number("--log-every", "Metrics every N steps.", Defaults.LogEvery, v => v >= 0, "0 or more");
        private readonly Option<int> _evalEvery = Number("--eval-every", "Held-out perplexity every N steps (0: only at the end).", Defaults.EvalEvery, v => v >= 0, "0 (only at the end) or more");
        private readonly Option<int> _evalBatches = Number("--eval-batches", "Held-out batches per evaluation (0: all).", Defaults.EvalBatches, v => v >= 0, "0 (all) or more");
        private readonly Option<int> _threads = Number("--threads", "Torch threads (0: torch's default).", Defaults.Threads, v => v >= 0, "0 (torch default) or more");
        private readonly Option<double> _heldOut = Number("--heldout-fraction", "Fraction of documents held out for perplexity (every k-th document).", Defaults.HeldOutFraction, v => v is >= 0 and < 0.5, "in [0, 0.5)");
        private readonly Option<bool> _deterministic = Flag("--deterministic", "Bitwise reproducible (torch on one thread).");
        private readonly Option<bool> _json = Flag("--json", "JSON lines (metrics, then a summary) instead of the progress bar.");

        public CommonOptions(Command cmd)
        {
            cmd.TreatUnmatchedTokensAsErrors = false;
            AddAll(cmd,
                _data, _textField, _seqLen, _batch, _accum, _steps, _lr, _schedule, _warmup, _minLr, _weightDecay, _clip, _lambdaWarmup, _seed,
                _out, _store, _mode, _every, _keep, _metrics, _port, _logEvery, _evalEvery, _evalBatches, _threads, _heldOut, _deterministic, _json);
        }

        public StageOptions Read(ParseResult parse) => new()
        {
            Data = DataSource.Parse(parse.GetValue(_data)!, parse.GetValue(_textField)!),
            OutputDirectory = Path.GetFullPath(parse.GetValue(_out)!),
            SequenceLength = parse.GetValue(_seqLen),
            BatchSize = parse.GetValue(_batch),
            GradientAccumulation = parse.GetValue(_accum),
            Steps = parse.GetValue(_steps),
            LearningRate = parse.GetValue(_lr),
            Schedule = parse.GetValue(_schedule),
            WarmupSteps = parse.GetValue(_warmup),
            MinLearningRateRatio = parse.GetValue(_minLr),
            WeightDecay = parse.GetValue(_weightDecay),
            GradientClip = parse.GetValue(_clip),
            LambdaWarmupSteps = parse.GetValue(_lambdaWarmup),
            Seed = parse.GetValue(_seed),
            CheckpointStore = parse.GetValue(_store),
            CheckpointMode = parse.GetValue(_mode),
            CheckpointEvery = parse.GetValue(_every),
            KeepLastN = parse.GetValue(_keep),
            MetricsJsonl = parse.GetValue(_metrics),
            MetricsPort = parse.GetValue(_port),
            LogEvery = parse.GetValue(_logEvery),
            EvalEvery = parse.GetValue(_evalEvery),
            EvalBatches = parse.GetValue(_evalBatches),
            Threads = parse.GetValue(_threads),
            HeldOutFraction = parse.GetValue(_heldOut),
            Deterministic = parse.GetValue(_deterministic),
            Json = parse.GetValue(_json),
        };
    }
}
