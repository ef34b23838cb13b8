using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Tensors;
using WrinkleFree.Inference.Tensors.Kernels;
using WrinkleFree.Inference.Tokenization;

namespace WrinkleFree.Inference.Models;

/// <summary>
/// A GGUF model ready to run: configuration, tokenizer and weights. Weight matrices point into the memory-mapped file
/// (no copy), except TQ2_0 tensors repacked at load into the I2_S layout, whose file pages are then dropped; so resident
/// memory is about the file size plus the KV cache.
/// </summary>
public sealed class Model : IDisposable
{
    private Model(GgufFile file, KernelFamily kernels, ModelConfig config, Tokenizer tokenizer, WeightMatrix embedding, LinearLayer output, float[] outputNorm, LayerWeights[] layers)
    {
        File = file;
        Kernels = kernels;
        Config = config;
        Tokenizer = tokenizer;
        Embedding = embedding;
        Output = output;
        OutputNorm = outputNorm;
        Layers = layers;
    }

    public GgufFile File { get; }

    /// <summary>The kernel family every weight matrix of this model multiplies with, chosen when it was loaded.</summary>
    public KernelFamily Kernels { get; }

    public ModelConfig Config { get; }

    public Tokenizer Tokenizer { get; }

    public WeightMatrix Embedding { get; }

    public LinearLayer Output { get; }

    public float[] OutputNorm { get; }

    public IReadOnlyList<LayerWeights> Layers { get; }

    /// <summary>Display name: <c>general.name</c> or the file name.</summary>
    public string Name => File.Metadata.GetStringOrNull("general.name") ?? System.IO.Path.GetFileNameWithoutExtension(File.Path);

    /// <summary>Bytes of weights streamed per forward step (all linear layers plus the LM head).</summary>
    public long WeightBytesPerStep
    {
        get
        {
            long total = Output.Weight.ByteSize;
            foreach (var l in Layers)
            {
                total += l.Q.Weight.ByteSize + l.K.Weight.ByteSize + l.V.Weight.ByteSize + l.O.Weight.ByteSize
                    + l.Gate.Weight.ByteSize + l.Up.Weight.ByteSize + l.Down.Weight.ByteSize;
            }

            return total;
        }
    }

    /// <summary><see cref="Load(string, KernelFamily)"/> with <see cref="KernelFamily.Default"/>.</summary>
    public static Model Load(string path) => Load(path, KernelFamily.Default);

    /// <summary>
    /// Maps <paramref name="path"/> and binds every tensor, its matrices multiplied with the <paramref name="kernels"/>
    /// family; errors name the missing or mis-shaped tensor.
    /// </summary>
    public static Model Load(string path, KernelFamily kernels)
    {
        ArgumentNullException.ThrowIfNull(kernels);
        var file = GgufFile.Open(path);
        try
        {
            return Bind(file, kernels);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static Model Bind(GgufFile file, KernelFamily kernels)
    {
        var arch = ArchitectureSpec.Find(file.Architecture);
        var tokenizer = Tokenizer.FromGguf(file.Metadata);
        var embd = file.GetTensor("token_embd.weight");
        if (embd.Rows > Array.MaxLength)
        {
            throw new GgufFormatException($"tensor 'token_embd.weight' has {embd.Rows} rows, more tokens than a vocabulary can hold", embd.FileOffset);
        }

        var config = ModelConfig.FromGguf(file.Metadata, arch, (int)embd.Rows);
        var binder = new TensorBinder(file, kernels);
        binder.Expect(embd, config.Dim, config.VocabSize);
        if (tokenizer.VocabSize > config.VocabSize)
        {
            throw new GgufFormatException($"tokenizer has {tokenizer.VocabSize} tokens but token_embd.weight has only {config.VocabSize} rows");
        }

        var untied = !arch.AlwaysTied && file.TryGetTensor("output.weight", out _);
        // An untied embedding is only looked up: no load-time copy for the multiply kernels.
        var embedding = binder.Matrix(embd, multiplied: !untied);
        var output = untied ? binder.Linear("output", config.Dim, config.VocabSize) : new LinearLayer(embedding);
        // Each block is at least nine tensors: a block count the file cannot hold is refused before the array is sized.
        if ((long)config.Layers * 9 > file.Tensors.Count)
        {
            throw new GgufFormatException(
                $"metadata key '{arch.Name}.block_count' = {config.Layers}, but the file has only {file.Tensors.Count} tensors (a block needs at least 9); the file is corrupt");
        }

        var layers = new LayerWeights[config.Layers];
        for (var i = 0; i < config.Layers; i++)
        {
            var b = $"blk.{i}.";
            var qkNorm = arch.QkNorm && (!arch.QkNormOptional || file.TryGetTensor(b + "attn_q_norm.weight", out _));
            layers[i] = new LayerWeights
            {
                AttnNorm = binder.Vector(b + "attn_norm.weight", config.Dim),
                Q = binder.Linear(b + "attn_q", config.Dim, config.QDim),
                K = binder.Linear(b + "attn_k", config.Dim, config.KvDim),
                V = binder.Linear(b + "attn_v", config.Dim, config.KvDim),
                O = binder.Linear(b + "attn_output", config.QDim, config.Dim),
                QNorm = qkNorm ? binder.Vector(b + "attn_q_norm.weight", config.HeadDim) : null,
                KNorm = qkNorm ? binder.Vector(b + "attn_k_norm.weight", config.HeadDim) : null,
                AttnSubNorm = arch.SubNorms ? binder.Vector(b + "attn_sub_norm.weight", config.QDim) : null,
                FfnNorm = binder.Vector(b + "ffn_norm.weight", config.Dim),
                Gate = binder.Linear(b + "ffn_gate", config.Dim, config.FfnDim),
                Up = binder.Linear(b + "ffn_up", config.Dim, config.FfnDim),
                Down = binder.Linear(b + "ffn_down", config.FfnDim, config.Dim),
                FfnSubNorm = arch.SubNorms ? binder.Vector(b + "ffn_sub_norm.weight", config.FfnDim) : null,
            };
        }

        return new Model(file, kernels, config, tokenizer, embedding, output, binder.Vector("output_norm.weight", config.Dim), layers);
    }

    /// <summary>True after <see cref="LockInMemory"/> succeeded.</summary>
    public bool Locked { get; private set; }

    /// <summary>
    /// mlock()s the whole mapping so the weights cannot be swapped out (the design's memory protection); tensors repacked at
    /// load are locked as their copies and their file pages are unlocked and dropped again.
    /// </summary>
    public unsafe void LockInMemory()
    {
        Native.MemoryLock.Lock((nint)File.BasePointer, File.Length);
        foreach (var m in RepackedMatrices())
        {
            foreach (var copy in m.Copies)
            {
                Native.MemoryLock.Lock((nint)copy.Pointer, copy.Length);
            }

            var (start, length) = InnerPages(m.Data, m.ByteSize);
            Native.MemoryLock.Unlock(start, length);
            ReleasePages(m.Data, m.ByteSize);
        }

        Locked = true;
    }

    public unsafe void Dispose()
    {
        if (Locked)
        {
            Native.MemoryLock.Unlock((nint)File.BasePointer, File.Length);
            foreach (var copy in RepackedMatrices().SelectMany(m => m.Copies))
            {
                Native.MemoryLock.Unlock((nint)copy.Pointer, copy.Length);
            }

            Locked = false;
        }

        foreach (var copy in RepackedMatrices().SelectMany(m => m.Copies))
        {
            copy.Dispose();
        }

        File.Dispose();
    }

    private IEnumerable<WeightMatrix> RepackedMatrices()
    {
        IEnumerable<LinearLayer> linears = [Output, .. Layers.SelectMany(l => (LinearLayer[])[l.Q, l.K, l.V, l.O, l.Gate, l.Up, l.Down])];
        return linears.Select(l => l.Weight).Append(Embedding).Where(m => m.Repacked).Distinct();
    }

    /// <summary>The whole pages inside [address, address + length): the ones no other tensor shares.</summary>
    private static unsafe (nint Start, long Length) InnerPages(byte* address, long length)
    {
        long page = Environment.SystemPageSize;
        var start = ((long)address + page - 1) & ~(page - 1);
        var end = ((long)address + length) & ~(page - 1);
        return ((nint)start, Math.Max(0, end - start));
    }

    /// <summary>Drops the mapping's pages of a repacked tensor (they are re-read from the page cache if ever touched again).</summary>
    private static unsafe void ReleasePages(byte* address, long length)
    {
        var (start, bytes) = InnerPages(address, length);
        if (OperatingSystem.IsLinux() && bytes > 0)
        {
            // Best effort: a refusal leaves the pages resident, which costs memory but not correctness.
            _ = Native.LibC.madvise(start, (nuint)bytes, Native.LibC.MadvDontNeed);
        }
    }

    /// <summary>Binds tensors by name and checks their shapes against the configuration.</summary>
    private sealed unsafe class TensorBinder(GgufFile file, KernelFamily kernels)
    {
        public void Expect(GgufTensorInfo t, long columns, long rows)
        {
            if (t.Columns != columns || t.Rows != rows || t.Shape.Length > 2)
            {
                throw new GgufFormatException(
                    $"tensor '{t.Name}' has shape [{string.Join(", ", t.Shape)}], expected [{columns}, {rows}] from the model's metadata", t.FileOffset);
            }
        }

        public WeightMatrix Matrix(GgufTensorInfo t, bool multiplied = true)
        {
            var matrix = WeightMatrix.Create(t.Type, (nint)file.GetPointer(t), (int)t.Rows, (int)t.Columns, t.Name, kernels, multiplied);
            if (matrix.Repacked)
            {
                // The copy serves every multiply: drop the mapping's pages so resident memory stays about the file size.
                ReleasePages(file.GetPointer(t), matrix.ByteSize);
            }

            return matrix;
        }

        public LinearLayer Linear(string name, int columns, int rows)
        {
            var t = file.GetTensor(name + ".weight");
            Expect(t, columns, rows);
            var scale = 1f;
            if (file.TryGetTensor(name + ".scale", out var s))
            {
                scale = Vector(s.Name, 1)[0];
            }

            var bias = file.TryGetTensor(name + ".bias", out _) ? Vector(name + ".bias", rows) : null;
            return new LinearLayer(Matrix(t), scale, bias);
        }

        public float[] Vector(string name, int length)
        {
            var t = file.GetTensor(name);
            if (t.ElementCount != length)
            {
                throw new GgufFormatException($"tensor '{name}' has {t.ElementCount} values, expected {length}", t.FileOffset);
            }

            var result = new float[length];
            WeightMatrix.Create(t.Type, (nint)file.GetPointer(t), 1, length, name, kernels).GetRow(0, result);
            return result;
        }
    }
}
