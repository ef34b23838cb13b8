using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.Json;
using WrinkleFree.Cli;
using WrinkleFree.Jobs.Checkpoints;
using WrinkleFree.Training.Data;
using WrinkleFree.Training.Stages;

namespace Wf.Training;

/// <summary>
/// <c>wf train teacher|stage1.9|stage2|stage3</c>: the trainable stages, all on <see cref="StageTrainer"/>. Exit codes are
/// what the job runner relies on: 0 done, <see cref="ExitCodes.ConfigurationError"/> (do not retry),
/// <see cref="ExitCodes.OutOfMemory"/> (do not retry), anything else (crash, signal) is retried. Values are parsed here
/// rather than by System.CommandLine so that a bad value also exits 64 instead of the parser's 1.
/// </summary>
internal sealed class TrainStageCommands(CliContext context)
{
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
        var modelType = Add(cmd, "--model-type", "qwen3 or llama.", Defaults.Teacher.ModelType);
        var vocab = Add(cmd, "--vocab-size", "BPE vocabulary size trained on the data.", Text(Defaults.Teacher.VocabSize));
        var hidden = Add(cmd, "--hidden", "Hidden size.", Text(Defaults.Teacher.HiddenSize));
        var layers = Add(cmd, "--layers", "Decoder layers.", Text(Defaults.Teacher.Layers));
        var heads = Add(cmd, "--heads", "Attention heads.", Text(Defaults.Teacher.Heads));
        var kvHeads = Add(cmd, "--kv-heads", "Key/value heads (GQA).", Text(Defaults.Teacher.KeyValueHeads));
        var ffn = Add(cmd, "--ffn", "SwiGLU intermediate size.", Text(Defaults.Teacher.IntermediateSize));
        cmd.SetAction((parse, ct) => RunAsync(TrainingStage.Teacher, parse, () => common.Read(parse) with
        {
            Teacher = new TeacherShape
            {
                ModelType = Value(parse, modelType) switch
                {
                    ("qwen3" or "llama") and var type => type,
                    var other => throw new TrainingConfigurationException($"--model-type '{other}': use qwen3 or llama"),
                },
                VocabSize = Number<int>(parse, vocab),
                HiddenSize = Number<int>(parse, hidden),
                Layers = Number<int>(parse, layers),
                Heads = Number<int>(parse, heads),
                KeyValueHeads = Number<int>(parse, kvHeads),
                IntermediateSize = Number<int>(parse, ffn),
            },
        }, ct));
        return cmd;
    }

    private Command Stage19()
    {
        var cmd = new Command("stage1.9", "Layer-wise hidden-state distillation from the full-precision teacher plus the LM loss (on a stage-1 model).");
        var common = new CommonOptions(cmd);
        var teacher = Add(cmd, "--teacher", "Full-precision teacher checkpoint directory.", null);
        var model = Add(cmd, "--model", "Student checkpoint directory (the output of wf train stage1).", null);
        var weight = Add(cmd, "--hidden-weight", "Weight of the hidden-state distillation term.", Text(Defaults.HiddenStateWeight));
        cmd.SetAction((parse, ct) => RunAsync(TrainingStage.Stage19, parse, () => common.Read(parse) with
        {
            TeacherDirectory = Required(parse, teacher),
            ModelDirectory = Required(parse, model),
            HiddenStateWeight = Number<double>(parse, weight),
        }, ct));
        return cmd;
    }

    private Command Stage2()
    {
        var cmd = new Command("stage2", "Continued pretraining with the LM loss (on a stage-1 or stage-1.9 model; on a stage-1 model it is the plain ternary fine-tune baseline).");
        var common = new CommonOptions(cmd);
        var model = Add(cmd, "--model", "Checkpoint directory to continue from.", null);
        cmd.SetAction((parse, ct) => RunAsync(TrainingStage.Stage2, parse, () => common.Read(parse) with
        {
            ModelDirectory = Required(parse, model),
        }, ct));
        return cmd;
    }

    private Command Stage3()
    {
        var cmd = new Command("stage3", "Distillation fine-tuning: CE + λ·KL(teacher ‖ student, T) + γ·MiniLM attention relation at one layer.");
        var common = new CommonOptions(cmd);
        var teacher = Add(cmd, "--teacher", "Full-precision teacher checkpoint directory.", null);
        var model = Add(cmd, "--model", "Student checkpoint directory.", null);
        var kl = Add(cmd, "--kl-weight", "λ, weight of the logit KL (paper: 10 classification, 1 summarization).", Text(Defaults.KlWeight));
        var ar = Add(cmd, "--ar-weight", "γ, weight of the attention-relation loss (paper: 1e5 classification, 1e3 summarization).", Text(Defaults.AttentionRelationWeight));
        var temperature = Add(cmd, "--temperature", "KL temperature.", Text(Defaults.Temperature));
        var layer = Add(cmd, "--ar-layer", "0-based layer of the attention-relation loss (default: the last).", null);
        var relationHeads = Add(cmd, "--relation-heads", "Relation heads the Q/K/V dimension is split into.", Text(Defaults.RelationHeads));
        cmd.SetAction((parse, ct) => RunAsync(TrainingStage.Stage3, parse, () => common.Read(parse) with
        {
            TeacherDirectory = Required(parse, teacher),
            ModelDirectory = Required(parse, model),
            KlWeight = Number<double>(parse, kl),
            AttentionRelationWeight = Number<double>(parse, ar),
            Temperature = Number<double>(parse, temperature),
            AttentionRelationLayer = parse.GetValue(layer) is null ? null : Number<int>(parse, layer),
            RelationHeads = Number<int>(parse, relationHeads),
        }, ct));
        return cmd;
    }

    private async Task<int> RunAsync(TrainingStage stage, ParseResult parse, Func<StageOptions> read, CancellationToken cancellationToken)
    {
        StageOptions options;
        try
        {
            if (parse.UnmatchedTokens.Count > 0)
            {
                throw new TrainingConfigurationException($"unknown argument(s): {string.Join(' ', parse.UnmatchedTokens)} (see wf train {StageTrainer.Name(stage)} --help)");
            }

            options = read() with { TimeProvider = context.Time };
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

    // The defaults --help shows and the parser falls back to are StageOptions' own, written once there.
    private static readonly StageOptions Defaults = new() { OutputDirectory = "" };

    private static string Text<T>(T value)
        where T : IFormattable => value.ToString(null, System.Globalization.CultureInfo.InvariantCulture);

    private static Option<string> Add(Command cmd, string name, string description, string? defaultValue)
    {
        // System.CommandLine prints "[default: ...]" itself from the factory.
        var option = new Option<string>(name) { Description = description };
        if (defaultValue is not null)
        {
            option.DefaultValueFactory = _ => defaultValue;
        }

        cmd.Options.Add(option);
        return option;
    }

    private static string Value(ParseResult parse, Option<string> option) => parse.GetValue(option) ?? "";

    private static string Required(ParseResult parse, Option<string> option) =>
        parse.GetValue(option) is { Length: > 0 } value ? value : throw new TrainingConfigurationException($"{option.Name} is required");

    private static T Number<T>(ParseResult parse, Option<string> option)
        where T : IParsable<T> =>
        T.TryParse(parse.GetValue(option), CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new TrainingConfigurationException($"{option.Name} '{parse.GetValue(option)}' is not a valid {(typeof(T) == typeof(double) ? "number" : "integer")}");

    /// <summary>The options every stage shares.</summary>
    private sealed class CommonOptions
    {
        private readonly Option<string> _data;
        private readonly Option<string> _textField;
        private readonly Option<string> _seqLen;
        private readonly Option<string> _batch;
        private readonly Option<string> _accum;
        private readonly Option<string> _steps;
        private readonly Option<string> _lr;
        private readonly Option<string> _schedule;
        private readonly Option<string> _warmup;
        private readonly Option<string> _minLr;
        private readonly Option<string> _weightDecay;
        private readonly Option<string> _clip;
        private readonly Option<string> _lambdaWarmup;
        private readonly Option<string> _seed;
        private readonly Option<string> _out;
        private readonly Option<string> _store;
        private readonly Option<string> _mode;
        private readonly Option<string> _every;
        private readonly Option<string> _keep;
        private readonly Option<string> _metrics;
        private readonly Option<string> _port;
        private readonly Option<string> _logEvery;
        private readonly Option<string> _evalEvery;
        private readonly Option<string> _evalBatches;
        private readonly Option<string> _threads;
        private readonly Option<string> _heldOut;
        private readonly Option<bool> _deterministic = new("--deterministic") { Description = "Bitwise reproducible (torch on one thread)." };
        private readonly Option<bool> _json = new("--json") { Description = "JSON lines (metrics, then a summary) instead of the progress bar." };

        public CommonOptions(Command cmd)
        {
            cmd.TreatUnmatchedTokensAsErrors = false;
            _data = Add(cmd, "--data", "brown (brown:LETTERS for some genres, e.g. brown:klmnpr = the fiction; brown:-LETTERS for all but those), a .txt file (documents separated by two blank lines) or a .jsonl file.", Defaults.Data.ToString());
            _textField = Add(cmd, "--text-field", "JSONL field holding the text.", Defaults.Data.TextField);
            _seqLen = Add(cmd, "--seq-len", "Tokens per packed sequence.", Text(Defaults.SequenceLength));
            _batch = Add(cmd, "--batch-size", "Sequences per micro-batch.", Text(Defaults.BatchSize));
            _accum = Add(cmd, "--grad-accum", "Micro-batches per optimizer step.", Text(Defaults.GradientAccumulation));
            _steps = Add(cmd, "--steps", "Optimizer steps.", Text(Defaults.Steps));
            _lr = Add(cmd, "--lr", "Peak learning rate.", Text(Defaults.LearningRate));
            _schedule = Add(cmd, "--schedule", "cosine, wsd (warmup-stable-decay) or constant.", Defaults.Schedule.ToString().ToLowerInvariant());
            _warmup = Add(cmd, "--warmup", "Learning-rate warm-up steps.", Text(Defaults.WarmupSteps));
            _minLr = Add(cmd, "--min-lr-ratio", "Final learning rate as a fraction of the peak.", Text(Defaults.MinLearningRateRatio));
            _weightDecay = Add(cmd, "--weight-decay", "AdamW weight decay.", Text(Defaults.WeightDecay));
            _clip = Add(cmd, "--grad-clip", "Gradient-norm clip (0: none).", Text(Defaults.GradientClip));
            _lambdaWarmup = Add(cmd, "--lambda-warmup", "Steps over which BitLinear λ rises 0→1 (0: ternary from the start).", Text(Defaults.LambdaWarmupSteps));
            _seed = Add(cmd, "--seed", "Seed of the weights' initialisation and the data order.", Text(Defaults.Seed));
            _out = Add(cmd, "--out", "Output checkpoint directory.", null);
            _store = Add(cmd, "--checkpoint-store", "Checkpoint folder or s3://bucket/prefix (default: OUT/checkpoints).", null);
            _mode = Add(cmd, "--checkpoint-mode", "copy or mount_cached (either case).", Defaults.CheckpointMode == CheckpointMode.Copy ? "copy" : "mount_cached");
            _every = Add(cmd, "--checkpoint-every", "Checkpoint every N steps (0: never).", Text(Defaults.CheckpointEvery));
            _keep = Add(cmd, "--keep-last-n", "Checkpoints kept (0: all).", Text(Defaults.KeepLastN));
            _metrics = Add(cmd, "--metrics-jsonl", "Metrics JSONL file (a .prom file for node_exporter is written beside it).", null);
            _port = Add(cmd, "--metrics-port", "Serve Prometheus /metrics on 127.0.0.1:PORT.", null);
            _logEvery = Add(cmd, "--log-every", "Metrics every N steps.", Text(Defaults.LogEvery));
            _evalEvery = Add(cmd, "--eval-every", "Held-out perplexity every N steps (0: only at the end).", Text(Defaults.EvalEvery));
            _evalBatches = Add(cmd, "--eval-batches", "Held-out batches per evaluation (0: all).", Text(Defaults.EvalBatches));
            _threads = Add(cmd, "--threads", "Torch threads (0: torch's default).", Text(Defaults.Threads));
            _heldOut = Add(cmd, "--heldout-fraction", "Fraction of documents held out for perplexity (every k-th document).", Text(Defaults.HeldOutFraction));
            cmd.Options.Add(_deterministic);
            cmd.Options.Add(_json);
        }

        public StageOptions Read(ParseResult parse)
        {
            var data = DataSource.Parse(Value(parse, _data), Value(parse, _textField));
            var schedule = Value(parse, _schedule) switch
            {
                "cosine" => LearningRateScheduleKind.Cosine,
                "wsd" => LearningRateScheduleKind.Wsd,
                "constant" => LearningRateScheduleKind.Constant,
                var other => throw new TrainingConfigurationException($"--schedule '{other}': use cosine, wsd or constant"),
            };
            // Either case: task files and `wf jobs` spell the modes as SkyPilot does (COPY, MOUNT_CACHED).
            var mode = Value(parse, _mode).ToLowerInvariant() switch
            {
                "copy" => CheckpointMode.Copy,
                "mount_cached" => CheckpointMode.MountCached,
                _ => throw new TrainingConfigurationException($"--checkpoint-mode '{Value(parse, _mode)}': use copy or mount_cached"),
            };
            return new StageOptions
            {
                Data = data,
                OutputDirectory = Path.GetFullPath(Required(parse, _out)),
                SequenceLength = Number<int>(parse, _seqLen),
                BatchSize = Number<int>(parse, _batch),
                GradientAccumulation = Number<int>(parse, _accum),
                Steps = Number<long>(parse, _steps),
                LearningRate = Number<double>(parse, _lr),
                Schedule = schedule,
                WarmupSteps = Number<long>(parse, _warmup),
                MinLearningRateRatio = Number<double>(parse, _minLr),
                WeightDecay = Number<double>(parse, _weightDecay),
                GradientClip = Number<double>(parse, _clip),
                LambdaWarmupSteps = Number<long>(parse, _lambdaWarmup),
                Seed = Number<long>(parse, _seed),
                CheckpointStore = parse.GetValue(_store),
                CheckpointMode = mode,
                CheckpointEvery = Number<int>(parse, _every),
                KeepLastN = Number<int>(parse, _keep),
                MetricsJsonl = parse.GetValue(_metrics),
                MetricsPort = parse.GetValue(_port) is null ? null : Number<int>(parse, _port),
                LogEvery = Number<int>(parse, _logEvery),
                EvalEvery = Number<int>(parse, _evalEvery),
                EvalBatches = Number<int>(parse, _evalBatches),
                Threads = Number<int>(parse, _threads),
                HeldOutFraction = Number<double>(parse, _heldOut),
                Deterministic = parse.GetValue(_deterministic),
                Json = parse.GetValue(_json),
            };
        }
    }
}
