using System.Diagnostics;
using LLama.Native;

namespace WrinkleFree.Reference;

/// <summary>
/// llama.cpp (as bundled by LLamaSharp 0.30) loaded on one GGUF file: exact logits, greedy continuations and pp/tg speed,
/// to check and benchmark the project's own engine against. Calls are serialised, so one instance can be shared by tests.
/// </summary>
public sealed class LlamaCppReference : IDisposable
{
    private readonly Lock _gate = new();
    private readonly SafeLlamaModelHandle _model;
    private readonly SafeLLamaContextHandle _context;
    private readonly LLamaBatch _batch = new();
    private readonly int _batchSize;
    private bool _disposed;

    private LlamaCppReference(SafeLlamaModelHandle model, SafeLLamaContextHandle context, int batchSize, string architecture)
    {
        _model = model;
        _context = context;
        _batchSize = batchSize;
        VocabSize = model.Vocab.Count;
        Architecture = architecture;
        ContextSize = (int)context.ContextSize;
    }

    /// <summary>Number of logits per position (llama.cpp's vocabulary size).</summary>
    public int VocabSize { get; }

    /// <summary>The model's <c>general.architecture</c> as llama.cpp read it.</summary>
    public string Architecture { get; }

    /// <summary>KV cache length in tokens; prompts plus continuations must fit.</summary>
    public int ContextSize { get; }

    /// <summary>The llama.cpp commit LLamaSharp 0.30.0 bundles (from LLamaSharp's version map).</summary>
    public const string LlamaCppCommit = "815a2a5915f22ce6a760c676389c5dfe8535c08f";

    /// <summary>One line naming the llama.cpp build, the native variant LLamaSharp chose (AVX level) and llama.cpp's system info, for benchmark reports.</summary>
    public static string BuildInfo => NativeSetup.Describe();

    /// <summary>Loads <paramref name="ggufPath"/> on the CPU with <paramref name="threads"/> threads for both prefill and decode.</summary>
    public static LlamaCppReference Load(string ggufPath, int threads, int contextSize = 512, int batchSize = 512)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(contextSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (!File.Exists(ggufPath))
        {
            throw new FileNotFoundException($"model file '{ggufPath}' does not exist", ggufPath);
        }

        NativeSetup.EnsureLoaded();
        var modelParams = LLamaModelParams.Default();
        var model = SafeLlamaModelHandle.LoadFromFile(ggufPath, modelParams);
        try
        {
            var contextParams = LLamaContextParams.Default();
            contextParams.n_ctx = (uint)contextSize;
            contextParams.n_batch = (uint)batchSize;
            // One micro-batch per batch, so a prompt of batchSize tokens is a single graph as in llama-bench's pp test.
            contextParams.n_ubatch = (uint)batchSize;
            contextParams.n_seq_max = 1;
            contextParams.n_threads = threads;
            contextParams.n_threads_batch = threads;
            var context = SafeLLamaContextHandle.Create(model, contextParams);
            var architecture = ReadString(model, "general.architecture");
            return new LlamaCppReference(model, context, batchSize, architecture);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>One forward pass over <paramref name="tokens"/> from an empty KV cache; row i holds the logits after token i.</summary>
    public float[][] Logits(int[] tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        lock (_gate)
        {
            CheckUsable(tokens, tokens.Length);
            _context.MemoryClear(true);
            var rows = new float[tokens.Length][];
            for (var start = 0; start < tokens.Length; start += _batchSize)
            {
                var count = Math.Min(_batchSize, tokens.Length - start);
                _batch.Clear();
                for (var i = 0; i < count; i++)
                {
                    _batch.Add(tokens[start + i], start + i, LLamaSeqId.Zero, true);
                }

                Decode();
                for (var i = 0; i < count; i++)
                {
                    rows[start + i] = _context.GetLogitsIth(i).ToArray();
                }
            }

            return rows;
        }
    }

    /// <summary>Greedy continuation of <paramref name="prompt"/> (argmax, ties to the lowest id) from an empty KV cache.</summary>
    public int[] Greedy(int[] prompt, int count)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentOutOfRangeException.ThrowIfLessThan(prompt.Length, 1, nameof(prompt) + ".Length");
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        lock (_gate)
        {
            CheckUsable(prompt, prompt.Length + Math.Max(count - 1, 0));
            _context.MemoryClear(true);
            Prefill(prompt);
            var result = new int[count];
            var position = prompt.Length;
            for (var i = 0; i < count; i++)
            {
                // After Prefill and after each single-token step, the only output row is the last one.
                result[i] = ArgMax(_context.GetLogitsIth(_batch.TokenCount - 1));
                if (i + 1 < count)
                {
                    DecodeOne(result[i], position++);
                }
            }

            return result;
        }
    }

    /// <summary>
    /// Prefill and decode throughput like llama-bench's pp/tg: a seeded random prompt decoded in batches (only the last
    /// logits requested), then <paramref name="decodeTokens"/> single-token steps with seeded random ids (no sampling).
    /// One warm-up run, then the best of <paramref name="repetitions"/> runs for each phase. Prompt plus decode tokens
    /// must fit the context given to <see cref="Load"/> (e.g. contextSize 640 for pp512 + tg128).
    /// </summary>
    public (double PrefillTokensPerSecond, double DecodeTokensPerSecond) Measure(int promptTokens, int decodeTokens, int seed, int repetitions = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(promptTokens, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(decodeTokens);
        ArgumentOutOfRangeException.ThrowIfLessThan(repetitions, 1);
        if (promptTokens + decodeTokens > ContextSize)
        {
            throw new ArgumentException($"{promptTokens} prompt + {decodeTokens} decode tokens exceed the context of {ContextSize}; load with a larger contextSize");
        }

        var random = new Random(seed);
        var prompt = new int[promptTokens];
        for (var i = 0; i < prompt.Length; i++)
        {
            prompt[i] = random.Next(VocabSize);
        }

        var steps = new int[decodeTokens];
        for (var i = 0; i < steps.Length; i++)
        {
            steps[i] = random.Next(VocabSize);
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            // The warm-up faults in the mapped weights and sizes llama.cpp's compute buffers, which the first run would otherwise pay for.
            RunOnce(prompt, steps, out _, out _);
            double bestPrefill = 0, bestDecode = 0;
            for (var r = 0; r < repetitions; r++)
            {
                RunOnce(prompt, steps, out var prefill, out var decode);
                bestPrefill = Math.Max(bestPrefill, promptTokens / prefill.TotalSeconds);
                if (decodeTokens > 0)
                {
                    bestDecode = Math.Max(bestDecode, decodeTokens / decode.TotalSeconds);
                }
            }

            return (bestPrefill, bestDecode);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _context.Dispose();
            _model.Dispose();
        }
    }

    private void RunOnce(int[] prompt, int[] steps, out TimeSpan prefill, out TimeSpan decode)
    {
        _context.MemoryClear(true);
        var start = Stopwatch.GetTimestamp();
        Prefill(prompt);
        // Decode may return before the backend finishes; synchronise so the clock covers the whole computation.
        _context.Synchronize();
        prefill = Stopwatch.GetElapsedTime(start);
        start = Stopwatch.GetTimestamp();
        for (var i = 0; i < steps.Length; i++)
        {
            DecodeOne(steps[i], prompt.Length + i);
        }

        _context.Synchronize();
        decode = Stopwatch.GetElapsedTime(start);
    }

    /// <summary>Decodes the prompt in batches of the context's batch size, asking only for the last position's logits.</summary>
    private void Prefill(int[] prompt)
    {
        for (var start = 0; start < prompt.Length; start += _batchSize)
        {
            var count = Math.Min(_batchSize, prompt.Length - start);
            _batch.Clear();
            for (var i = 0; i < count; i++)
            {
                var position = start + i;
                _batch.Add(prompt[position], position, LLamaSeqId.Zero, position == prompt.Length - 1);
            }

            Decode();
        }
    }

    private void DecodeOne(int token, int position)
    {
        _batch.Clear();
        _batch.Add(token, position, LLamaSeqId.Zero, true);
        Decode();
    }

    private void Decode()
    {
        var result = _context.Decode(_batch);
        if (result != DecodeResult.Ok)
        {
            throw new InvalidOperationException($"llama_decode failed with {result} ({(int)result}) on a batch of {_batch.TokenCount} tokens");
        }
    }

    private void CheckUsable(int[] tokens, int positions)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (positions > ContextSize)
        {
            throw new ArgumentException($"{positions} positions exceed the context of {ContextSize}; load with a larger contextSize");
        }

        for (var i = 0; i < tokens.Length; i++)
        {
            if ((uint)tokens[i] >= (uint)VocabSize)
            {
                throw new ArgumentOutOfRangeException(nameof(tokens), $"token {tokens[i]} at index {i} is outside the vocabulary of {VocabSize}");
            }
        }
    }

    /// <summary>First index of the maximum, so ties resolve to the lowest token id.</summary>
    private static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    private static string ReadString(SafeLlamaModelHandle model, string key) =>
        model.MetadataValueByKey(key) is { } value ? System.Text.Encoding.UTF8.GetString(value.Span) : "";
}
