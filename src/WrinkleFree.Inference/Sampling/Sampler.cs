using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using System.Security.Cryptography;

namespace WrinkleFree.Inference.Sampling;

/// <summary>
/// Chooses one token per call from a logit vector. Stages run in llama.cpp's default chain order:
/// repetition/presence/frequency penalties, top-k, top-p, min-p, temperature, then a draw from a seeded generator.
/// One instance serves one sequence; it holds all its buffers, so steady-state calls do not allocate.
/// </summary>
public sealed class Sampler
{
    private const int FirstTopPChunk = 32;

    // Above this k, one O(n) selection over all keys beats a bounded heap's O(n log k).
    private const int HeapTopKLimit = 1024;

    // Top-p over the whole vocabulary first bins tokens by logit distance from the max; see TopPFull.
    private const int Buckets = 1024;
    private const float BucketSpan = 32;

    private readonly SamplingOptions _options;
    private readonly int _vocabSize;
    private readonly Xoshiro256StarStar _random;

    // Candidates as packed (logit, id) keys; see CandidateKeys for why one ulong per candidate.
    private readonly ulong[] _keys;

    // exp() scratch sized to the vocabulary so vectorized passes never need a temporary.
    private readonly float[] _scratch;

    // Occurrence counts for the penalty window; only the entries listed in _seen are non-zero between calls.
    private readonly int[] _counts;
    private readonly int[] _seen;

    private readonly double[] _bucketMass;
    private readonly int[] _bucketCount;

    private readonly ulong[] _topKeys;
    private readonly TokenLogprob[] _topLogprobs;
    private int _topCount;
    private readonly int[] _biasIds;
    private readonly float[] _biases;

    /// <summary>Validates <paramref name="options"/> and allocates every buffer a call will need.</summary>
    public Sampler(SamplingOptions options, int vocabSize)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabSize);
        options.Validate();
        _options = options;
        _vocabSize = vocabSize;
        _random = new Xoshiro256StarStar(options.Seed ?? RandomSeed());
        _keys = new ulong[vocabSize];
        _scratch = new float[vocabSize];
        _counts = new int[vocabSize];
        _seen = new int[vocabSize];
        _bucketMass = options.TopP < 1 ? new double[Buckets] : [];
        _bucketCount = options.TopP < 1 ? new int[Buckets] : [];
        var top = Math.Min(options.TopLogprobs, vocabSize);
        _topKeys = new ulong[top];
        _topLogprobs = new TokenLogprob[top];
        LastLogprob = float.NaN;
        _biasIds = options.LogitBias is { } bias ? [.. bias.Keys] : [];
        _biases = options.LogitBias is { } b ? [.. _biasIds.Select(id => b[id])] : [];
        foreach (var id in _biasIds)
        {
            if (id >= vocabSize)
            {
                throw new ArgumentException($"{nameof(SamplingOptions.LogitBias)} names token {id}, outside the vocabulary (0..{vocabSize - 1})", nameof(SamplingOptions.LogitBias));
            }
        }
    }

    /// <summary>The validated options this sampler applies.</summary>
    public SamplingOptions Options => _options;

    /// <summary>
    /// Log-softmax of the last chosen token under the penalized, untempered full distribution (what OpenAI reports);
    /// NaN when <see cref="SamplingOptions.Logprobs"/> is off.
    /// </summary>
    public float LastLogprob { get; private set; }

    /// <summary>The last call's most likely alternatives, by descending logprob; empty unless requested.</summary>
    public ReadOnlySpan<TokenLogprob> LastTopLogprobs => _topLogprobs.AsSpan(0, _topCount);

    /// <summary>
    /// Returns the next token id. <paramref name="logits"/> (one per vocabulary entry) is modified in place: on return
    /// it holds the penalized logits. <paramref name="history"/> is the prompt followed by the tokens generated so far.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Sample(Span<float> logits, ReadOnlySpan<int> history)
    {
        if (logits.Length != _vocabSize)
        {
            throw new ArgumentException($"logits has {logits.Length} entries but the vocabulary has {_vocabSize}", nameof(logits));
        }

        for (var i = 0; i < _biasIds.Length; i++)
        {
            logits[_biasIds[i]] += _biases[i];
        }

        ApplyPenalties(logits, history);

        var max = TensorPrimitives.Max(logits);
        if (float.IsNaN(max) || float.IsNegativeInfinity(max))
        {
            throw new ArgumentException($"logits must contain a finite maximum but it is {max}", nameof(logits));
        }

        var id = _options.Temperature == 0 ? ArgMax(logits) : Draw(logits, max);
        if (_options.Logprobs)
        {
            ComputeLogprobs(logits, max, id);
        }

        return id;
    }

    /// <summary>
    /// Scores a given token instead of drawing one (prompt logprobs for echo): returns the log-softmax of
    /// <paramref name="tokenId"/> under the raw logits (no penalties, no temperature) and fills
    /// <see cref="LastTopLogprobs"/> with the most likely alternatives. Needs <see cref="SamplingOptions.Logprobs"/>.
    /// </summary>
    public float Score(ReadOnlySpan<float> logits, int tokenId)
    {
        if (logits.Length != _vocabSize)
        {
            throw new ArgumentException($"logits has {logits.Length} entries but the vocabulary has {_vocabSize}", nameof(logits));
        }

        if (!_options.Logprobs)
        {
            throw new InvalidOperationException("scoring a token needs SamplingOptions.Logprobs");
        }

        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)tokenId, (uint)_vocabSize, nameof(tokenId));
        var max = TensorPrimitives.Max(logits);
        if (float.IsNaN(max) || float.IsNegativeInfinity(max))
        {
            throw new ArgumentException($"logits must contain a finite maximum but it is {max}", nameof(logits));
        }

        ComputeLogprobs(logits, max, tokenId);
        return LastLogprob;
    }

    private static ulong RandomSeed()
    {
        Span<byte> bytes = stackalloc byte[8];
        RandomNumberGenerator.Fill(bytes);
        return BitConverter.ToUInt64(bytes);
    }

    private static int ArgMax(ReadOnlySpan<float> logits)
    {
        // TensorPrimitives.IndexOfMax returns the first index among equal maxima: ties go to the lowest id.
        return TensorPrimitives.IndexOfMax(logits);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ApplyPenalties(Span<float> logits, ReadOnlySpan<int> history)
    {
        var o = _options;
        if (o.PenaltyWindow == 0 || history.IsEmpty || (o.RepetitionPenalty == 1 && o.PresencePenalty == 0 && o.FrequencyPenalty == 0))
        {
            return;
        }

        var window = o.PenaltyWindow < 0 ? history : history[Math.Max(0, history.Length - o.PenaltyWindow)..];
        var seen = 0;
        foreach (var token in window)
        {
            if ((uint)token >= (uint)_vocabSize)
            {
                ResetCounts(seen);
                throw new ArgumentException($"history holds token id {token} outside the vocabulary [0, {_vocabSize})", nameof(history));
            }

            if (_counts[token]++ == 0)
            {
                _seen[seen++] = token;
            }
        }

        for (var i = 0; i < seen; i++)
        {
            var token = _seen[i];
            var logit = logits[token];
            logit = logit > 0 ? logit / o.RepetitionPenalty : logit * o.RepetitionPenalty;
            logits[token] = logit - (_counts[token] * o.FrequencyPenalty) - o.PresencePenalty;
        }

        ResetCounts(seen);
    }

    private void ResetCounts(int seen)
    {
        for (var i = 0; i < seen; i++)
        {
            _counts[_seen[i]] = 0;
        }
    }

    private int Draw(ReadOnlySpan<float> logits, float max)
    {
        var o = _options;
        var count = _vocabSize;
        var materialized = false;

        if (o.TopK > 0 && o.TopK < count)
        {
            if (o.TopK <= HeapTopKLimit)
            {
                count = CandidateKeys.SelectBest(logits, _keys.AsSpan(0, o.TopK));
            }
            else
            {
                Materialize(logits, float.NegativeInfinity, ref count);
                CandidateKeys.SelectSmallest(_keys.AsSpan(0, count), o.TopK);
                count = o.TopK;
            }

            materialized = true;
        }

        if (o.TopP < 1)
        {
            if (materialized)
            {
                var total = SumExp(DecodeLogits(count), max, 1);
                count = TopP(_keys.AsSpan(0, count), max, o.TopP * total);
            }
            else
            {
                count = TopPFull(logits, max, o.TopP);
                materialized = true;
            }
        }

        if (o.MinP > 0)
        {
            // p_i >= MinP * p_max  <=>  logit_i >= max + ln(MinP); the max is always a surviving candidate.
            var threshold = max + MathF.Log(o.MinP);
            if (materialized)
            {
                count = KeepAtLeast(count, threshold);
            }
            else
            {
                Materialize(logits, threshold, ref count);
                materialized = true;
            }
        }

        if (!materialized)
        {
            return Pick(logits, max);
        }

        var index = Pick(DecodeLogits(count), max);
        return CandidateKeys.Id(_keys[index]);
    }

    // Fills _keys with every token whose logit is at least threshold (all of them for -inf).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Materialize(ReadOnlySpan<float> logits, float threshold, ref int count)
    {
        var n = 0;
        for (var i = 0; i < logits.Length; i++)
        {
            if (logits[i] >= threshold)
            {
                _keys[n++] = CandidateKeys.Encode(logits[i], i);
            }
        }

        count = n;
    }

    // Top-p over _keys[0..count): sorts only growing chunks of the best candidates until their mass reaches target,
    // so a peaked distribution costs one selection pass and a tiny sort instead of a full vocabulary sort.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int TopP(Span<ulong> keys, float max, double target)
    {
        var count = keys.Length;
        var cumulative = 0.0;
        var start = 0;
        var chunk = FirstTopPChunk;
        while (start < count)
        {
            var end = (int)Math.Min(count, (long)start + chunk);
            CandidateKeys.SelectSmallest(keys[start..], end - start);
            keys[start..end].Sort();
            for (var i = start; i < end; i++)
            {
                cumulative += Math.Exp(CandidateKeys.Logit(keys[i]) - max);
                if (cumulative >= target)
                {
                    return i + 1;
                }
            }

            start = end;
            chunk *= 4;
        }

        // Rounding can leave the sum a hair below target: then everything stays.
        return count;
    }

    // Top-p over the whole vocabulary without sorting it: bin tokens by (max - logit) into fixed-width buckets,
    // find the bucket where the cumulative mass crosses the target, keep every token of the buckets before it
    // unsorted (their order does not matter to the draw) and sort only within the boundary bucket.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int TopPFull(ReadOnlySpan<float> logits, float max, float topP)
    {
        var total = SumExp(logits, max, 1);
        var weights = _scratch.AsSpan(0, logits.Length);
        var range = max - TensorPrimitives.Min(logits);
        var scale = range > 0 ? Buckets / Math.Min(range, BucketSpan) : 0;
        Array.Clear(_bucketMass);
        Array.Clear(_bucketCount);
        for (var i = 0; i < logits.Length; i++)
        {
            var b = Bucket(logits[i], max, scale);
            _bucketMass[b] += weights[i];
            _bucketCount[b]++;
        }

        var target = topP * total;
        var before = 0.0;
        var boundary = 0;
        var sure = 0;
        for (var b = 0; b < Buckets; b++)
        {
            // The last bucket is the boundary at the latest, even if rounding kept the sum a hair below target.
            if (b == Buckets - 1 || before + _bucketMass[b] >= target)
            {
                boundary = b;
                break;
            }

            before += _bucketMass[b];
            sure += _bucketCount[b];
        }

        int front = 0, back = sure;
        for (var i = 0; i < logits.Length; i++)
        {
            var b = Bucket(logits[i], max, scale);
            if (b < boundary)
            {
                _keys[front++] = CandidateKeys.Encode(logits[i], i);
            }
            else if (b == boundary)
            {
                _keys[back++] = CandidateKeys.Encode(logits[i], i);
            }
        }

        return sure + TopP(_keys.AsSpan(sure, back - sure), max, target - before);
    }

    // Monotone in the logit, so every token of a lower bucket ranks above every token of a higher one;
    // -inf and anything past BucketSpan land in the last bucket.
    private static int Bucket(float logit, float max, float scale)
    {
        var d = (max - logit) * scale;
        return d < Buckets - 1 ? (int)d : Buckets - 1;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int KeepAtLeast(int count, float threshold)
    {
        var n = 0;
        for (var i = 0; i < count; i++)
        {
            var key = _keys[i];
            if (CandidateKeys.Logit(key) >= threshold)
            {
                _keys[n++] = key;
            }
        }

        return n;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private ReadOnlySpan<float> DecodeLogits(int count)
    {
        var values = _scratch.AsSpan(0, count);
        for (var i = 0; i < count; i++)
        {
            values[i] = CandidateKeys.Logit(_keys[i]);
        }

        return values;
    }

    // Sum of exp((x - max) * scale) into _scratch; x may alias _scratch.
    private double SumExp(ReadOnlySpan<float> values, float max, float scale)
    {
        var weights = _scratch.AsSpan(0, values.Length);
        TensorPrimitives.Subtract(values, max, weights);
        TensorPrimitives.Multiply(weights, scale, weights);
        TensorPrimitives.Exp(weights, weights);
        return TensorPrimitives.Sum(weights);
    }

    // Temperature and the draw: weights exp((x - max) / T) are relative to the global max, which is always a
    // candidate, so the total is at least 1 and never underflows however small T is.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int Pick(ReadOnlySpan<float> values, float max)
    {
        var total = SumExp(values, max, 1 / _options.Temperature);
        var weights = _scratch.AsSpan(0, values.Length);
        var r = _random.NextDouble() * total;
        var cumulative = 0.0;
        var last = 0;
        for (var i = 0; i < weights.Length; i++)
        {
            var w = weights[i];
            if (w > 0)
            {
                cumulative += w;
                if (r < cumulative)
                {
                    return i;
                }

                last = i;
            }
        }

        // r can pass the running sum only by rounding (the vectorized total adds in another order).
        return last;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ComputeLogprobs(ReadOnlySpan<float> logits, float max, int chosen)
    {
        var logSumExp = max + (float)Math.Log(SumExp(logits, max, 1));
        LastLogprob = logits[chosen] - logSumExp;

        var top = _topKeys.AsSpan();
        var n = CandidateKeys.SelectBest(logits, top);
        top[..n].Sort();
        for (var i = 0; i < n; i++)
        {
            _topLogprobs[i] = new TokenLogprob(CandidateKeys.Id(top[i]), CandidateKeys.Logit(top[i]) - logSumExp);
        }

        _topCount = n;
    }
}
