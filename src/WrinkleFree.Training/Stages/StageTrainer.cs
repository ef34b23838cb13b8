using System.Diagnostics;
using System.Text.Json;
using TorchSharp;
using WrinkleFree.Training.Data;
using WrinkleFree.Training.Losses;
using WrinkleFree.Training.Model;
using WrinkleFree.Training.Observability;
using WrinkleFree.Jobs.Checkpoints;
using static TorchSharp.torch;

namespace WrinkleFree.Training.Stages;

/// <summary>
/// The one training loop every stage shares (stages differ only by their <see cref="IStageObjective"/>): AdamW with
/// gradient accumulation and clipping, the learning-rate and BitLinear-λ schedules, periodic checkpoints of model,
/// optimizer, RNG and data position handed to an <see cref="ICheckpointStore"/>, resume from the newest valid checkpoint,
/// metrics and held-out perplexity. Resumed runs repeat an uninterrupted run bit for bit when torch is deterministic
/// (one thread, <see cref="StageOptions.Deterministic"/>): every schedule is a function of the step and the data order a
/// function of (seed, epoch).
/// </summary>
public static class StageTrainer
{
    private const string OptimizerFile = "optimizer.bin";
    private const string RngFile = "rng.bin";
    private const string SummaryFile = "training_summary.json";

    /// <summary>Runs <paramref name="stage"/> to completion (resuming when the checkpoint store has a checkpoint).</summary>
    public static async Task<StageResult> RunAsync(TrainingStage stage, StageOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        // TorchSharp 0.107 does not implement use_deterministic_algorithms; on CPU the ops used here (matmul, softmax,
        // embedding backward) are deterministic when torch runs on one intra-op thread, so that is what Deterministic means.
        if (options.Deterministic || options.Threads > 0)
        {
            torch.set_num_threads(options.Deterministic ? 1 : options.Threads);
        }

        var stageName = Name(stage);
        Directory.CreateDirectory(options.OutputDirectory);
        await using var console = options.Output is { } writer ? TrainingConsole.ForWriter(writer, options.Json) : TrainingConsole.Create(stageName, options.Steps, options.Json);
        await using var store = CheckpointStores.Open(new CheckpointStoreOptions
        {
            Location = options.CheckpointStore ?? Path.Combine(options.OutputDirectory, "checkpoints"),
            Mode = options.CheckpointMode,
            KeepLastN = options.KeepLastN,
            TimeProvider = options.TimeProvider,
            Log = console.Message,
        });

        var restoreDir = Path.Combine(options.OutputDirectory, ".restore");
        DeleteDirectory(restoreDir);
        var resumedStep = await store.RestoreLatestAsync(restoreDir, cancellationToken).ConfigureAwait(false);
        TrainerState? resumed = null;
        if (resumedStep is { } rs)
        {
            resumed = TrainerState.Load(restoreDir);
            var expected = NewState(stageName, options, rs, DataPosition.Start, 0);
            if (resumed.Stage != expected.Stage || resumed.Data != expected.Data || resumed.Seed != expected.Seed
                || resumed.SequenceLength != expected.SequenceLength || resumed.BatchSize != expected.BatchSize)
            {
                throw new TrainingConfigurationException(
                    $"the checkpoint store holds step {rs} of a different run ({resumed.Describe}), this run is ({expected.Describe}); use another --checkpoint-store or --out");
            }

            console.Message($"{stageName}: resuming from checkpoint step {rs}");
        }

        torch.random.manual_seed(options.Seed);
        var documents = DocumentReader.Read(options.Data);
        var tokenizer = LoadTokenizer(stage, options, resumed is null ? null : restoreDir, documents);
        var corpus = TokenCorpus.Build(documents, tokenizer, options.HeldOutFraction);
        var batches = new PackedBatches(corpus.Train, options.SequenceLength, options.BatchSize, options.Seed);
        using var objective = CreateObjective(stage, options, tokenizer, resumed is null ? null : restoreDir);
        var student = objective.Student;
        if (student.Config.VocabSize != tokenizer.VocabSize)
        {
            throw new TrainingConfigurationException($"the model has {student.Config.VocabSize} tokens but its tokenizer {tokenizer.VocabSize}; the checkpoint and tokenizer.json do not belong together");
        }

        var parameters = student.parameters().Where(p => p.requires_grad).ToList();
        using var optimizer = torch.optim.AdamW(parameters, options.LearningRate, options.Beta1, options.Beta2, 1e-8, options.WeightDecay);
        var step = 0L;
        var tokensSeen = 0L;
        if (resumed is not null)
        {
            using (var reader = new BinaryReader(File.OpenRead(Path.Combine(restoreDir, OptimizerFile))))
            {
                optimizer.load_state_dict(reader);
            }

            using var rng = torch.tensor(File.ReadAllBytes(Path.Combine(restoreDir, RngFile)), dtype: ScalarType.Byte);
            torch.set_rng_state(rng);
            batches.Restore(new DataPosition(resumed.Epoch, resumed.SequenceInEpoch));
            step = resumed.Step;
            tokensSeen = resumed.TokensSeen;
        }

        DeleteDirectory(restoreDir);
        await using var metrics = new TrainingMetrics(new TrainingMetricsOptions
        {
            JsonlPath = options.MetricsJsonl,
            PrometheusPort = options.MetricsPort,
            TimeProvider = options.TimeProvider,
        });
        var sampler = new SystemStatsSampler(options.TimeProvider);
        console.Message($"{stageName}: {corpus.Train.Length} training tokens ({batches.SequencesPerEpoch} sequences of {options.SequenceLength}), {corpus.HeldOut.Length} held-out; {CountParameters(student)} parameters; steps {step}..{options.Steps}");

        var clock = options.TimeProvider;
        var runStart = clock.GetTimestamp();
        var windowStart = runStart;
        var windowTokens = 0L;
        var runTokens = 0L;
        var tokensPerStep = (long)options.BatchSize * options.SequenceLength * options.GradientAccumulation;
        var lambdaApplies = student.Config.Ternary;
        while (step < options.Steps)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var lr = LearningRateSchedule.At(options.Schedule, step, options.Steps, options.WarmupSteps, options.LearningRate, options.MinLearningRateRatio, options.DecayFraction);
            foreach (var group in optimizer.ParamGroups)
            {
                group.LearningRate = lr;
            }

            var lambda = lambdaApplies ? LearningRateSchedule.Lambda(step, options.LambdaWarmupSteps) : 0;
            if (lambdaApplies)
            {
                student.SetQuantizationLambda(lambda);
            }

            var terms = new Dictionary<string, double>(StringComparer.Ordinal);
            var total = 0.0;
            optimizer.zero_grad();
            for (var micro = 0; micro < options.GradientAccumulation; micro++)
            {
                using var scope = torch.NewDisposeScope();
                using var ids = torch.tensor(batches.Next(), [options.BatchSize, options.SequenceLength], dtype: ScalarType.Int64, device: student.Device);
                var loss = objective.Compute(ids, terms);
                total += loss.item<float>();
                (loss / options.GradientAccumulation).backward();
            }

            var gradNorm = torch.nn.utils.clip_grad_norm_(parameters, options.GradientClip > 0 ? options.GradientClip : double.MaxValue);
            optimizer.step();
            step++;
            tokensSeen += tokensPerStep;
            windowTokens += tokensPerStep;
            runTokens += tokensPerStep;

            long? checkpointBytes = null;
            double? checkpointSeconds = null;
            if (options.CheckpointEvery > 0 && step % options.CheckpointEvery == 0 && step < options.Steps)
            {
                var started = clock.GetTimestamp();
                checkpointBytes = await SaveCheckpointAsync(store, options, stageName, step, student, tokenizer, optimizer, batches.Position, tokensSeen, cancellationToken).ConfigureAwait(false);
                checkpointSeconds = clock.GetElapsedTime(started).TotalSeconds;
            }

            double? perplexity = null;
            if (options.EvalEvery > 0 && step % options.EvalEvery == 0 && step < options.Steps)
            {
                perplexity = Evaluate(student, corpus.HeldOut, options);
            }

            if (step % Math.Max(1, options.LogEvery) == 0 || step == options.Steps || checkpointBytes is not null || perplexity is not null)
            {
                var now = clock.GetTimestamp();
                var seconds = clock.GetElapsedTime(windowStart, now).TotalSeconds;
                var losses = new Dictionary<string, double>(StringComparer.Ordinal) { ["loss"] = total / options.GradientAccumulation };
                foreach (var (name, value) in terms)
                {
                    losses[name] = value / options.GradientAccumulation;
                }

                var record = new TrainingMetricsRecord
                {
                    Stage = stageName,
                    Step = step,
                    TotalSteps = options.Steps,
                    Losses = losses,
                    LearningRate = lr,
                    Lambda = lambda,
                    TokensPerSecond = seconds > 0 ? windowTokens / seconds : 0,
                    GradNorm = gradNorm,
                    TokensSeen = tokensSeen,
                    EpochProgress = batches.EpochProgress,
                    CheckpointBytes = checkpointBytes,
                    CheckpointSeconds = checkpointSeconds,
                    HeldOutPerplexity = perplexity,
                    System = sampler.Sample(),
                };
                await metrics.RecordAsync(record, cancellationToken).ConfigureAwait(false);
                console.Report(record, metrics.ToJson(record));
                windowStart = now;
                windowTokens = 0;
            }
        }

        var runSeconds = clock.GetElapsedTime(runStart).TotalSeconds;
        var finalPerplexity = Evaluate(student, corpus.HeldOut, options);
        student.Save(options.OutputDirectory);
        tokenizer.Save(options.OutputDirectory);
        await store.FlushAsync(cancellationToken).ConfigureAwait(false);
        var result = new StageResult
        {
            Stage = stage,
            Steps = step,
            ResumedFromStep = resumedStep,
            HeldOutPerplexity = finalPerplexity,
            TokensPerSecond = runSeconds > 0 ? runTokens / runSeconds : 0,
            OutputDirectory = Path.GetFullPath(options.OutputDirectory),
        };
        File.WriteAllText(Path.Combine(options.OutputDirectory, SummaryFile), JsonSerializer.Serialize(new
        {
            stage = stageName,
            steps = result.Steps,
            resumed_from_step = result.ResumedFromStep,
            heldout_perplexity = double.IsFinite(result.HeldOutPerplexity) ? result.HeldOutPerplexity : (double?)null,
            tokens_per_second = result.TokensPerSecond,
            data = options.Data.ToString(),
            seq_len = options.SequenceLength,
            batch_size = options.BatchSize,
            grad_accum = options.GradientAccumulation,
            lr = options.LearningRate,
            schedule = options.Schedule.ToString().ToLowerInvariant(),
        }));
        console.Message($"{stageName}: done, {step} steps, held-out perplexity {finalPerplexity:F2}, {result.TokensPerSecond:F0} tokens/s, wrote {result.OutputDirectory}");
        return result;
    }

    /// <summary>The CLI name of a stage.</summary>
    public static string Name(TrainingStage stage) => stage switch
    {
        TrainingStage.Teacher => "teacher",
        TrainingStage.Stage19 => "stage1.9",
        TrainingStage.Stage2 => "stage2",
        _ => "stage3",
    };

    /// <summary>
    /// Held-out perplexity: exp of the mean next-token cross-entropy over the held-out stream cut into sequences in order
    /// (at most <see cref="StageOptions.EvalBatches"/> batches).
    /// </summary>
    public static double Evaluate(CausalLanguageModel model, int[] heldOut, StageOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(heldOut);
        ArgumentNullException.ThrowIfNull(options);
        if (heldOut.Length < options.SequenceLength)
        {
            return double.NaN;
        }

        var reader = new PackedBatches(heldOut, options.SequenceLength, 1, options.Seed, shuffle: false);
        var sequences = reader.SequencesPerEpoch;
        if (options.EvalBatches > 0)
        {
            sequences = Math.Min(sequences, (long)options.EvalBatches * options.BatchSize);
        }

        var sum = 0.0;
        using (torch.no_grad())
        {
            for (var done = 0L; done < sequences; done += options.BatchSize)
            {
                var count = (int)Math.Min(options.BatchSize, sequences - done);
                var ids = new long[count * options.SequenceLength];
                for (var i = 0; i < count; i++)
                {
                    reader.Next().CopyTo(ids, i * options.SequenceLength);
                }

                using var scope = torch.NewDisposeScope();
                using var input = torch.tensor(ids, [count, options.SequenceLength], dtype: ScalarType.Int64, device: model.Device);
                sum += LanguageModelLoss.Compute(model.forward(input), input).item<float>() * count;
            }
        }

        return Math.Exp(sum / sequences);
    }

    private static void Validate(StageOptions o)
    {
        static void Check(bool ok, string message)
        {
            if (!ok)
            {
                throw new TrainingConfigurationException(message);
            }
        }

        Check(o.Steps > 0, $"--steps must be positive, got {o.Steps}");
        Check(o.SequenceLength >= 2, $"--seq-len must be at least 2, got {o.SequenceLength}");
        Check(o.BatchSize >= 1, $"--batch-size must be at least 1, got {o.BatchSize}");
        Check(o.GradientAccumulation >= 1, $"--grad-accum must be at least 1, got {o.GradientAccumulation}");
        Check(o.LearningRate > 0 && double.IsFinite(o.LearningRate), $"--lr must be positive, got {o.LearningRate}");
        Check(o.WarmupSteps >= 0, $"--warmup must be 0 or more, got {o.WarmupSteps}");
        Check(o.CheckpointEvery >= 0, $"--checkpoint-every must be 0 (never) or more, got {o.CheckpointEvery}");
        Check(o.KeepLastN >= 0, $"--keep-last-n must be 0 (keep all) or more, got {o.KeepLastN}");
        Check(o.Threads >= 0, $"--threads must be 0 (torch default) or more, got {o.Threads}");
        Check(o.MetricsPort is null or > 0 and < 65536, $"--metrics-port must be 1..65535, got {o.MetricsPort}");
        Check(o.HeldOutFraction is >= 0 and < 0.5, $"--heldout-fraction must be in [0, 0.5), got {o.HeldOutFraction}");
        Check(o.Temperature > 0, $"--temperature must be positive, got {o.Temperature}");
    }

    private static TrainingTokenizer LoadTokenizer(TrainingStage stage, StageOptions options, string? restoreDir, IReadOnlyList<string> documents)
    {
        if (restoreDir is not null)
        {
            return TrainingTokenizer.Load(restoreDir);
        }

        if (stage == TrainingStage.Teacher)
        {
            // Trained on the training documents only, so held-out text stays unseen.
            var stride = options.HeldOutFraction > 0 ? Math.Max(2, (int)Math.Round(1 / options.HeldOutFraction)) : int.MaxValue;
            var training = documents.Where((_, i) => stride == int.MaxValue || documents.Count <= 1 || i % stride != stride - 1);
            return TrainingTokenizer.Train(training, options.Teacher.VocabSize);
        }

        foreach (var dir in new[] { options.ModelDirectory, options.TeacherDirectory })
        {
            if (dir is not null && File.Exists(Path.Combine(dir, TrainingTokenizer.FileName)))
            {
                return TrainingTokenizer.Load(dir);
            }
        }

        throw new TrainingConfigurationException(
            $"no {TrainingTokenizer.FileName} in --model '{options.ModelDirectory}' or --teacher '{options.TeacherDirectory}': the stage needs the tokenizer the teacher was trained with");
    }

    private static IStageObjective CreateObjective(TrainingStage stage, StageOptions options, TrainingTokenizer tokenizer, string? restoreDir)
    {
        CausalLanguageModel Student(string option) => StageModels.Load(restoreDir ?? options.ModelDirectory, restoreDir is null ? option : "the restored checkpoint");
        switch (stage)
        {
            case TrainingStage.Teacher:
                if (restoreDir is not null)
                {
                    return new LanguageModelObjective(StageModels.Load(restoreDir, "the restored checkpoint"));
                }

                var shape = options.Teacher;
                var config = new ModelConfig
                {
                    ModelType = shape.ModelType,
                    VocabSize = tokenizer.VocabSize,
                    HiddenSize = shape.HiddenSize,
                    IntermediateSize = shape.IntermediateSize,
                    NumHiddenLayers = shape.Layers,
                    NumAttentionHeads = shape.Heads,
                    NumKeyValueHeads = shape.KeyValueHeads,
                    HeadDim = shape.HiddenSize / shape.Heads,
                    TieWordEmbeddings = true,
                    MaxPositionEmbeddings = Math.Max(2048, options.SequenceLength),
                    RopeTheta = 10_000,
                    BosTokenId = tokenizer.BosId,
                    EosTokenId = tokenizer.EosId,
                };
                try
                {
                    config.Validate("the teacher shape");
                }
                catch (InvalidDataException e)
                {
                    throw new TrainingConfigurationException(e.Message);
                }

                return new LanguageModelObjective(new CausalLanguageModel(config));
            case TrainingStage.Stage2:
                return new LanguageModelObjective(Student("--model"));
            case TrainingStage.Stage19:
            {
                var student = Student("--model");
                return new HiddenStateObjective(student, StageModels.Load(options.TeacherDirectory, "--teacher"), options.HiddenStateWeight);
            }

            default:
            {
                var student = Student("--model");
                var objective = new DistillationObjective
                {
                    Lambda = options.KlWeight,
                    Gamma = options.AttentionRelationWeight,
                    Temperature = options.Temperature,
                    Layer = options.AttentionRelationLayer,
                    RelationHeads = options.RelationHeads,
                };
                return new LogitDistillationObjective(student, StageModels.Load(options.TeacherDirectory, "--teacher"), objective);
            }
        }
    }

    private static async Task<long> SaveCheckpointAsync(
        ICheckpointStore store, StageOptions options, string stageName, long step, CausalLanguageModel student, TrainingTokenizer tokenizer,
        torch.optim.Optimizer optimizer, DataPosition position, long tokensSeen, CancellationToken cancellationToken)
    {
        var staging = Path.Combine(options.OutputDirectory, ".staging");
        DeleteDirectory(staging);
        Directory.CreateDirectory(staging);
        student.Save(staging);
        tokenizer.Save(staging);
        using (var writer = new BinaryWriter(File.Create(Path.Combine(staging, OptimizerFile))))
        {
            ((TorchSharp.Modules.OptimizerHelper)optimizer).save_state_dict(writer);
        }

        using (var rng = torch.get_rng_state())
        {
            File.WriteAllBytes(Path.Combine(staging, RngFile), rng.data<byte>().ToArray());
        }

        NewState(stageName, options, step, position, tokensSeen).Save(staging);
        var bytes = new DirectoryInfo(staging).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);
        await store.SaveAsync(step, staging, cancellationToken).ConfigureAwait(false);
        DeleteDirectory(staging);
        return bytes;
    }

    private static TrainerState NewState(string stageName, StageOptions options, long step, DataPosition position, long tokensSeen) => new()
    {
        Stage = stageName,
        Step = step,
        Epoch = position.Epoch,
        SequenceInEpoch = position.SequenceInEpoch,
        TokensSeen = tokensSeen,
        Data = options.Data.ToString(),
        Seed = options.Seed,
        SequenceLength = options.SequenceLength,
        BatchSize = options.BatchSize,
    };

    private static long CountParameters(CausalLanguageModel model) => model.parameters().Sum(p => p.numel());

    private static void DeleteDirectory(string path)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }
}
