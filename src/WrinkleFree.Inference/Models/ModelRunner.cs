using System.Runtime.CompilerServices;
using WrinkleFree.Inference.Tensors;
using WrinkleFree.Inference.Threading;

namespace WrinkleFree.Inference.Models;

/// <summary>
/// Runs forward steps over a batch of tokens from any number of sequences: every linear layer streams its weights once
/// for the whole batch (the point of batching on a memory-bound CPU), attention runs per token against its own sequence's
/// KV pages. Scratch buffers are sized once for <c>maxBatchTokens</c>; a step allocates nothing. Not thread-safe: one
/// runner per engine loop.
/// </summary>
public sealed class ModelRunner
{
    private readonly Model _model;
    private readonly ModelConfig _c;
    private readonly WorkerPool _pool;
    private readonly float[] _x;
    private readonly ActivationBatch _normed;
    private readonly float[] _q;
    private readonly float[] _k;
    private readonly float[] _v;
    private readonly ActivationBatch _attn;
    private readonly float[] _proj;
    private readonly float[] _gate;
    private readonly ActivationBatch _hidden;
    private readonly ActivationBatch _final;
    private readonly float[] _invFreq;
    private readonly float[] _cos;
    private readonly float[] _sin;
    private readonly AttentionWork _attention;
    private readonly TokenWork _perToken;

    // Per layer: q/k/v and gate/up in one pool dispatch each when the weights are ternary (null: separate multiplies).
    private readonly TernaryGroup?[] _qkv;
    private readonly TernaryGroup?[] _gateUp;
    private StepToken[] _tokens = [];

    public ModelRunner(Model model, WorkerPool pool, int maxBatchTokens)
    {
        _model = model;
        _c = model.Config;
        _pool = pool;
        MaxBatchTokens = maxBatchTokens;
        var t = maxBatchTokens;
        _x = Touched(t * _c.Dim);
        _normed = new ActivationBatch(t, _c.Dim);
        _q = Touched(t * _c.QDim);
        _k = Touched(t * _c.KvDim);
        _v = Touched(t * _c.KvDim);
        _attn = new ActivationBatch(t, _c.QDim);
        _proj = Touched(t * _c.Dim);
        _gate = Touched(t * _c.FfnDim);
        _hidden = new ActivationBatch(t, _c.FfnDim);
        _final = new ActivationBatch(t, _c.Dim);
        _invFreq = new float[_c.RopeDims / 2];
        for (var i = 0; i < _invFreq.Length; i++)
        {
            _invFreq[i] = (float)Math.Pow(_c.RopeBase, -2.0 * i / _c.RopeDims);
        }

        _cos = Touched(t * _invFreq.Length);
        _sin = Touched(t * _invFreq.Length);
        _attention = new AttentionWork(this);
        _perToken = new TokenWork(this);
        _qkv = new TernaryGroup?[_c.Layers];
        _gateUp = new TernaryGroup?[_c.Layers];
        for (var l = 0; l < _c.Layers; l++)
        {
            var w = model.Layers[l];
            _qkv[l] = TernaryGroup.TryCreate(w.Q.Weight, w.K.Weight, w.V.Weight);
            _gateUp[l] = TernaryGroup.TryCreate(w.Gate.Weight, w.Up.Weight);
        }
    }

    public int MaxBatchTokens { get; }

    /// <summary>
    /// A buffer written once at construction: a fresh large array is not backed by memory until first written, and the
    /// page faults of a whole batch's rows would otherwise land in the first long prompt.
    /// </summary>
    private static float[] Touched(int length)
    {
        var buffer = new float[length];
        Array.Clear(buffer);
        return buffer;
    }

    public Model Model => _model;

    /// <summary>When set, every step adds its wall time per phase to it (the bench's breakdown); null costs nothing.</summary>
    public StepProfile? Profile { get; set; }

    /// <summary>The time since <paramref name="since"/> goes to <paramref name="phase"/> when profiling.</summary>
    private long Lap(StepPhase phase, long since) => Profile is { } p ? p.Lap(phase, since) : 0;

    /// <summary>
    /// Runs one step. Every token's K/V is written to its sequence at its position; logits rows are written to
    /// <paramref name="logits"/> (VocabSize floats each) in order for the tokens with <see cref="StepToken.NeedLogits"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Forward(ReadOnlySpan<StepToken> tokens, Span<float> logits)
    {
        var n = tokens.Length;
        if (n == 0 || n > MaxBatchTokens)
        {
            throw new ArgumentOutOfRangeException(nameof(tokens), $"a step holds 1 to {MaxBatchTokens} tokens, got {n}");
        }

        if (_tokens.Length < n)
        {
            _tokens = new StepToken[MaxBatchTokens];
        }

        tokens.CopyTo(_tokens);
        var clock = Profile != null ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;
        var dim = _c.Dim;
        for (var t = 0; t < n; t++)
        {
            var tok = tokens[t];
            if ((uint)tok.Token >= (uint)_c.VocabSize)
            {
                throw new ArgumentOutOfRangeException(nameof(tokens), $"token id {tok.Token} is outside the vocabulary (0..{_c.VocabSize - 1})");
            }

            tok.Sequence.EnsureCapacity(tok.Position + 1);
            _model.Embedding.GetRow(tok.Token, _x.AsSpan(t * dim, dim));
            RopeAngles(t, tok.Position);
        }

        _normed.Batch = n;
        _attn.Batch = n;
        _hidden.Batch = n;
        clock = Lap(StepPhase.Embed, clock);
        for (var l = 0; l < _c.Layers; l++)
        {
            clock = Layer(l, n, clock);
        }

        if (Profile is { } profile)
        {
            profile.Steps++;
        }

        var outputs = 0;
        for (var t = 0; t < n; t++)
        {
            tokens[t].Sequence.Commit(tokens[t].Position + 1);
            if (tokens[t].NeedLogits)
            {
                outputs++;
            }
        }

        if (outputs == 0)
        {
            return;
        }

        _final.Batch = outputs;
        var row = 0;
        for (var t = 0; t < n; t++)
        {
            if (tokens[t].NeedLogits)
            {
                RmsNorm(_x.AsSpan(t * dim, dim), _model.OutputNorm, _final.Row(row++));
            }
        }

        _final.MarkDirty();
        clock = Lap(StepPhase.NormsAndElementwise, clock);
        _model.Output.Forward(_final, logits[..(outputs * _c.VocabSize)], _pool);
        Lap(StepPhase.Head, clock);
    }

    /// <summary>One transformer block over the step's tokens; returns the profile clock.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private long Layer(int l, int n, long clock)
    {
        var w = _model.Layers[l];
        PerToken(TokenPass.AttnNorm, l, n);
        _normed.MarkDirty();
        clock = Lap(StepPhase.NormsAndElementwise, clock);
        if (_qkv[l] is { } qkv)
        {
            qkv.Multiply(_normed, _q, _k, _v, _pool);
            w.Q.Finish(n, _q);
            w.K.Finish(n, _k);
            w.V.Finish(n, _v);
        }
        else
        {
            w.Q.Forward(_normed, _q, _pool);
            w.K.Forward(_normed, _k, _pool);
            w.V.Forward(_normed, _v, _pool);
        }

        clock = Lap(StepPhase.QkvMatmul, clock);
        PerToken(TokenPass.RopeAndCache, l, n);
        clock = Lap(StepPhase.RopeAndCache, clock);
        _attention.Layer = l;
        _pool.Run(_attention, _attention.Items(n, _pool.Threads));
        clock = Lap(StepPhase.Attention, clock);
        if (w.AttnSubNorm != null)
        {
            PerToken(TokenPass.AttnSubNorm, l, n);
        }

        _attn.MarkDirty();
        clock = Lap(StepPhase.NormsAndElementwise, clock);
        w.O.Forward(_attn, _proj, _pool);
        clock = Lap(StepPhase.OutputMatmul, clock);
        PerToken(TokenPass.ResidualAndFfnNorm, l, n);
        _normed.MarkDirty();
        clock = Lap(StepPhase.NormsAndElementwise, clock);
        if (_gateUp[l] is { } gateUp)
        {
            gateUp.Multiply(_normed, _gate, _hidden.Data, default, _pool);
            w.Gate.Finish(n, _gate);
            w.Up.Finish(n, _hidden.Data);
        }
        else
        {
            w.Gate.Forward(_normed, _gate, _pool);
            w.Up.Forward(_normed, _hidden.Data, _pool);
        }

        clock = Lap(StepPhase.GateUpMatmul, clock);
        PerToken(TokenPass.GateAndSubNorm, l, n);
        _hidden.MarkDirty();
        clock = Lap(StepPhase.NormsAndElementwise, clock);
        w.Down.Forward(_hidden, _proj, _pool);
        clock = Lap(StepPhase.DownMatmul, clock);
        PerToken(TokenPass.Residual, l, n);
        return clock;
    }

    /// <summary>
    /// Runs <paramref name="pass"/> for each of the step's <paramref name="n"/> tokens, on the pool's threads when there are
    /// several (a single token runs inline). Each token's values are computed exactly as one thread would.
    /// </summary>
    private void PerToken(TokenPass pass, int layer, int n)
    {
        _perToken.Pass = pass;
        _perToken.Layer = layer;
        _pool.Run(_perToken, n);
    }

    /// <summary>One token's share of <paramref name="pass"/> in layer <paramref name="l"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void TokenStep(TokenPass pass, int l, int t)
    {
        var w = _model.Layers[l];
        var dim = _c.Dim;
        var x = _x.AsSpan(t * dim, dim);
        switch (pass)
        {
            case TokenPass.AttnNorm:
                RmsNorm(x, w.AttnNorm, _normed.Row(t));
                break;
            case TokenPass.RopeAndCache:
                var tok = _tokens[t];
                var q = _q.AsSpan(t * _c.QDim, _c.QDim);
                var k = _k.AsSpan(t * _c.KvDim, _c.KvDim);
                if (w.QNorm is { } qn)
                {
                    HeadNorm(q, qn);
                    HeadNorm(k, w.KNorm!);
                }

                Rope(q, t);
                Rope(k, t);
                var v = _v.AsSpan(t * _c.KvDim, _c.KvDim);
                for (var h = 0; h < _c.KvHeads; h++)
                {
                    tok.Sequence.Store(l, 0, tok.Position, h, k.Slice(h * _c.HeadDim, _c.HeadDim));
                    tok.Sequence.Store(l, 1, tok.Position, h, v.Slice(h * _c.HeadDim, _c.HeadDim));
                }

                break;
            case TokenPass.AttnSubNorm:
                RmsNorm(_attn.Row(t), w.AttnSubNorm!, _attn.Row(t));
                break;
            case TokenPass.ResidualAndFfnNorm:
                HotMath.Add(x, _proj.AsSpan(t * dim, dim));
                RmsNorm(x, w.FfnNorm, _normed.Row(t));
                break;
            case TokenPass.GateAndSubNorm:
                var ff = _c.FfnDim;
                var gate = _gate.AsSpan(t * ff, ff);
                var hidden = _hidden.Row(t);
                if (_c.Activation == Activation.Silu)
                {
                    HotMath.SiluGate(gate, hidden);
                }
                else
                {
                    HotMath.ReluSquaredGate(gate, hidden);
                }

                if (w.FfnSubNorm is { } fsn)
                {
                    RmsNorm(hidden, fsn, hidden);
                }

                break;
            case TokenPass.Residual:
                HotMath.Add(x, _proj.AsSpan(t * dim, dim));
                break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RmsNorm(ReadOnlySpan<float> x, ReadOnlySpan<float> weight, Span<float> destination)
    {
        var scale = 1f / MathF.Sqrt(HotMath.SumOfSquares(x) / x.Length + _c.NormEps);
        HotMath.ScaleBy(x, scale, weight, destination);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void HeadNorm(Span<float> heads, ReadOnlySpan<float> weight)
    {
        for (var h = 0; h < heads.Length; h += _c.HeadDim)
        {
            var head = heads.Slice(h, _c.HeadDim);
            RmsNorm(head, weight, head);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RopeAngles(int t, int position)
    {
        var half = _invFreq.Length;
        for (var i = 0; i < half; i++)
        {
            var angle = position * _invFreq[i];
            (_sin[t * half + i], _cos[t * half + i]) = MathF.SinCos(angle);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Rope(Span<float> heads, int t)
    {
        var half = _invFreq.Length;
        var cos = _cos.AsSpan(t * half, half);
        var sin = _sin.AsSpan(t * half, half);
        for (var h = 0; h < heads.Length; h += _c.HeadDim)
        {
            var head = heads.Slice(h, _c.HeadDim);
            if (_c.Architecture.Rope == RopeStyle.Normal)
            {
                for (var i = 0; i < half; i++)
                {
                    var a = head[2 * i];
                    var b = head[2 * i + 1];
                    head[2 * i] = a * cos[i] - b * sin[i];
                    head[2 * i + 1] = a * sin[i] + b * cos[i];
                }
            }
            else
            {
                for (var i = 0; i < half; i++)
                {
                    var a = head[i];
                    var b = head[i + half];
                    head[i] = a * cos[i] - b * sin[i];
                    head[i + half] = a * sin[i] + b * cos[i];
                }
            }
        }
    }

    /// <summary>The per-token work between a layer's multiplies (norms, RoPE and the KV writes, gates, residual adds).</summary>
    private enum TokenPass
    {
        AttnNorm,
        RopeAndCache,
        AttnSubNorm,
        ResidualAndFfnNorm,
        GateAndSubNorm,
        Residual,
    }

    /// <summary>Runs one <see cref="TokenPass"/> over a range of the step's tokens.</summary>
    private sealed class TokenWork(ModelRunner r) : IParallelWork
    {
        public TokenPass Pass { get; set; }

        public int Layer { get; set; }

        public void Execute(int start, int end)
        {
            for (var t = start; t < end; t++)
            {
                r.TokenStep(Pass, Layer, t);
            }
        }
    }

    /// <summary>
    /// Causal attention, one item per (group of tokens, KV head, share of the query heads reading that KV head). A group is
    /// a run of consecutive positions of one sequence (one token when decoding, up to <see cref="GroupTokens"/> of a
    /// prompt chunk): each page of the KV head's cached keys and values is converted from half precision once per item and
    /// read by every token and query head of the item. Each worker keeps its own score and page buffers.
    /// </summary>
    internal sealed class AttentionWork(ModelRunner r) : IParallelWork
    {
        /// <summary>Most tokens of one sequence that share an item's page conversions (their scores are kept together).</summary>
        internal const int GroupTokens = 16;

        [ThreadStatic]
        private static float[]? t_scores;

        [ThreadStatic]
        private static float[]? t_rows;

        private int[] _groupStart = [];
        private int _groups;
        private int _headsPerItem = 1;

        public int Layer { get; set; }

        /// <summary>
        /// Groups the step's <paramref name="tokens"/> tokens and returns the item count. A KV head's whole group of query
        /// heads is one item unless that leaves fewer than four items a thread, as one decoding sequence does (5 KV heads on
        /// 2B4T): then the group is halved until there are enough to balance.
        /// </summary>
        public int Items(int tokens, int threads)
        {
            if (_groupStart.Length < tokens + 1)
            {
                _groupStart = new int[Math.Max(tokens + 1, r.MaxBatchTokens + 1)];
            }

            _groups = 0;
            for (var t = 0; t < tokens; t++)
            {
                var start = _groups == 0 ? -1 : _groupStart[_groups - 1];
                var joins = start >= 0 && t - start < GroupTokens
                    && r._tokens[t].Sequence == r._tokens[t - 1].Sequence && r._tokens[t].Position == r._tokens[t - 1].Position + 1;
                if (!joins)
                {
                    _groupStart[_groups++] = t;
                }
            }

            _groupStart[_groups] = tokens;
            var c = r._c;
            _headsPerItem = c.Heads / c.KvHeads;
            while (_headsPerItem % 2 == 0 && _groups * c.Heads / _headsPerItem < 4 * threads)
            {
                _headsPerItem /= 2;
            }

            return _groups * c.Heads / _headsPerItem;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public unsafe void Execute(int start, int end)
        {
            var c = r._c;
            var group = c.Heads / c.KvHeads;
            var shares = c.Heads / _headsPerItem;
            var scale = 1f / MathF.Sqrt(c.HeadDim);
            for (var item = start; item < end; item++)
            {
                var g = item / shares;
                var h = item % shares * _headsPerItem;
                var t0 = _groupStart[g];
                var tokens = _groupStart[g + 1] - t0;
                var tok = r._tokens[t0];
                var length = tok.Position + tokens;
                var need = tokens * _headsPerItem * length;
                var scores = t_scores is { } s && s.Length >= need ? s : t_scores = new float[Math.Max(need, 1024) * 2];
                var rows = t_rows is { } b && b.Length >= RowsFloats(c.HeadDim) ? b : t_rows = new float[RowsFloats(c.HeadDim)];
                var dim = r._attn.Columns;
                fixed (float* q = r._q)
                fixed (float* output = r._attn.Data)
                fixed (float* ps = scores)
                fixed (float* pr = rows)
                {
                    Attend(
                        q + (long)t0 * c.QDim + h * c.HeadDim, c.QDim, output + (long)t0 * dim + h * c.HeadDim, dim, tokens, _headsPerItem,
                        tok.Sequence, Layer, h / group, tok.Position + 1, scale, ps, Aligned(pr));
                }
            }
        }

        /// <summary>Floats of a page-conversion buffer: a page's run, plus room to start it on a cache line.</summary>
        internal static int RowsFloats(int headDim) => KvCache.PageTokens * headDim + 16;

        /// <summary>
        /// The first 64-byte boundary in a pinned page-conversion buffer (<see cref="RowsFloats"/>). A managed array starts
        /// 8 or 16 bytes past one, and then every 64-byte store of the conversion and load of the kernels splits two cache
        /// lines: `WrinkleFree.Bench attention`, one thread, took 15.9-16.0 against 12.4-13.1 µs an item at a 512-token
        /// context from cache, 18.2-18.4 against 15.0-15.2 from memory, and 1.55 against 1.29 at a 48-token one.
        /// </summary>
        internal static unsafe float* Aligned(float* rows) => (float*)(((nint)rows + 63) & ~(nint)63);

        /// <summary>
        /// Attention of the query heads in <paramref name="q"/> (HeadDim floats each, all reading KV head
        /// <paramref name="kvHead"/>) at position length - 1 into <paramref name="output"/>: the kernel where it applies,
        /// else position by position (the same results). <paramref name="scores"/> holds length floats per head. The
        /// tests' entry: steps go through <see cref="Execute"/>, which reuses its buffers.
        /// </summary>
        // Fully optimized from the first call, like the rest of the step (a fresh process's first prompt, docs/benchmarks.md).
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        internal static unsafe void Heads(ReadOnlySpan<float> q, KvSequence seq, int layer, int kvHead, int length, float scale, float[] scores, Span<float> output)
        {
            var headDim = seq.HeadDim;
            var rows = new float[RowsFloats(headDim)];
            fixed (float* pq = q)
            fixed (float* ps = scores)
            fixed (float* po = output)
            fixed (float* pr = rows)
            {
                Attend(pq, q.Length, po, output.Length, 1, q.Length / headDim, seq, layer, kvHead, length, scale, ps, Aligned(pr));
            }
        }

        /// <summary>
        /// <paramref name="tokens"/> consecutive positions of <paramref name="seq"/>, the first at length
        /// <paramref name="firstLength"/> (its position + 1), each with <paramref name="heads"/> query heads reading KV head
        /// <paramref name="kvHead"/>: token i's head j reads its query at q + i·qStride + j·HeadDim and writes its output at
        /// output + i·outStride + j·HeadDim. Each page is converted into <paramref name="rows"/> once for all of them;
        /// <paramref name="scores"/> holds tokens × heads × (firstLength + tokens - 1) floats.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        internal static unsafe void Attend(
            float* q, int qStride, float* output, int outStride, int tokens, int heads, KvSequence seq, int layer, int kvHead, int firstLength,
            float scale, float* scores, float* rows)
        {
            var headDim = seq.HeadDim;
            var length = firstLength + tokens - 1;
            if (!AttentionKernel.Supports(headDim))
            {
                for (var i = 0; i < tokens; i++)
                {
                    for (var j = 0; j < heads; j++)
                    {
                        PerPosition(
                            new ReadOnlySpan<float>(q + (long)i * qStride + j * headDim, headDim), seq, layer, kvHead, firstLength + i, scale,
                            new Span<float>(scores + (long)(i * heads + j) * length, firstLength + i),
                            new Span<float>(output + (long)i * outStride + j * headDim, headDim));
                    }
                }

                return;
            }

            var pages = (length + KvCache.PageTokens - 1) / KvCache.PageTokens;
            for (var page = 0; page < pages; page++)
            {
                var first = page * KvCache.PageTokens;
                // After the last key page, the first value page is the next run to prefetch.
                var next = page + 1 < pages ? seq.PageRows(layer, 0, kvHead, page + 1) : seq.PageRows(layer, 1, kvHead, 0);
                // Keys come in blocks of 16 positions: the blocks holding the page's positions up to length.
                var blocks = (Math.Min(KvCache.PageTokens, length - first) + KvCache.KeyBlock - 1) / KvCache.KeyBlock;
                var k = PageFloats(seq, layer, 0, kvHead, page, blocks * KvCache.KeyBlock * headDim, rows, next);

                for (var i = 0; i < tokens; i++)
                {
                    var count = Math.Min(KvCache.PageTokens, firstLength + i - first);
                    if (count > 0)
                    {
                        AttentionKernel.Scores(q + (long)i * qStride, heads, k, headDim, count, scale, scores + (long)i * heads * length + first, length);
                    }
                }
            }

            for (var i = 0; i < tokens; i++)
            {
                for (var j = 0; j < heads; j++)
                {
                    HotMath.SoftMax(new Span<float>(scores + (long)(i * heads + j) * length, firstLength + i));
                }
            }

            for (var page = 0; page < pages; page++)
            {
                var first = page * KvCache.PageTokens;
                var next = page + 1 < pages ? seq.PageRows(layer, 1, kvHead, page + 1) : null;
                var v = PageFloats(seq, layer, 1, kvHead, page, Math.Min(KvCache.PageTokens, length - first) * headDim, rows, next);

                for (var i = 0; i < tokens; i++)
                {
                    var count = Math.Min(KvCache.PageTokens, firstLength + i - first);
                    for (var j = 0; count > 0 && j < heads; j++)
                    {
                        AttentionKernel.Mix(
                            scores + (long)(i * heads + j) * length + first, v, headDim, count, output + (long)i * outStride + j * headDim, page == 0);
                    }
                }
            }
        }

        /// <summary>
        /// The first <paramref name="values"/> values of a page's key (<paramref name="kOrV"/> 0) or value (1) run of the KV
        /// head as floats, in the run's own order (<see cref="KvCache.Offset"/>): where they are in a float cache; converted
        /// into <paramref name="rows"/> from a half one, the run at <paramref name="next"/> (or null) prefetched meanwhile.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static unsafe float* PageFloats(KvSequence seq, int layer, int kOrV, int kvHead, int page, int values, float* rows, byte* next)
        {
            var at = seq.PageRows(layer, kOrV, kvHead, page);
            if (seq.Precision == KvPrecision.F32)
            {
                return (float*)at;
            }

            HalfMath.ToSingle((Half*)at, rows, values, (Half*)next);
            return rows;
        }

        /// <summary>The per-position form: the reference the kernel is tested against, and the path for other head sizes.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        internal static void PerPosition(ReadOnlySpan<float> q, KvSequence seq, int layer, int kvHead, int length, float scale, Span<float> scores, Span<float> output)
        {
            Span<float> row = stackalloc float[q.Length];
            for (var p = 0; p < length; p++)
            {
                seq.Read(layer, 0, p, kvHead, row);
                scores[p] = AttentionKernel.Dot(q, row, scale);
            }

            var probs = scores[..length];
            HotMath.SoftMax(probs);
            output.Clear();
            for (var p = 0; p < length; p++)
            {
                seq.Read(layer, 1, p, kvHead, row);
                HotMath.AddScaled(row, probs[p], output);
            }
        }
    }
}
