using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace WrinkleFree.Training.Model;

/// <summary>
/// A LLaMA/Qwen3 decoder-only LM in TorchSharp with Hugging Face parameter names (<c>model.layers.0.self_attn.q_proj.weight</c>),
/// optionally ternary (<see cref="BitLinear"/>) and with SubLN. <c>forward</c> returns logits [B, T, V]; <see cref="Forward"/>
/// also returns hidden states and attention captures for distillation.
/// </summary>
public sealed class CausalLanguageModel : nn.Module<Tensor, Tensor>
{
    private readonly TransformerBody _body;
    private readonly TorchSharp.Modules.Linear? _lmHead;
    private Tensor? _cos;
    private Tensor? _sin;

    /// <summary>Builds a freshly initialised model (normal(0, 0.02) weights, norms 1) on <paramref name="device"/> (CPU by default).</summary>
    public CausalLanguageModel(ModelConfig config, Device? device = null)
        : base(nameof(CausalLanguageModel))
    {
        config.Validate();
        Config = config;
        device ??= CPU;
        _body = new TransformerBody(config, device);
        register_module("model", _body);
        if (!config.TieWordEmbeddings)
        {
            _lmHead = nn.Linear(config.HiddenSize, config.VocabSize, hasBias: false, device: device);
            using (no_grad())
            {
                nn.init.normal_(_lmHead.weight!, 0, 0.02);
            }

            register_module("lm_head", _lmHead);
        }
    }

    public ModelConfig Config { get; }

    /// <summary>The device of the parameters.</summary>
    public Device Device => _body.EmbedTokens.weight!.device;

    internal TransformerBody Body => _body;

    /// <summary>Logits [B, T, V] for token ids [B, T] (int64).</summary>
    public override Tensor forward(Tensor inputIds) => Forward(inputIds, ForwardOptions.LogitsOnly).Logits;

    /// <summary>Runs the model on token ids [B, T]; see <see cref="ModelOutput"/> for what comes back.</summary>
    public ModelOutput Forward(Tensor inputIds, ForwardOptions options)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        ArgumentNullException.ThrowIfNull(options);
        if (inputIds.dim() != 2)
        {
            throw new ArgumentException($"input ids must be [batch, time], got [{string.Join(", ", inputIds.shape)}]", nameof(inputIds));
        }

        if (options.CaptureAttentionLayer is { } cl && (cl < 0 || cl >= Config.NumHiddenLayers))
        {
            throw new ArgumentOutOfRangeException(nameof(options), cl, $"attention capture layer must be 0..{Config.NumHiddenLayers - 1}");
        }

        var t = inputIds.shape[1];
        var (cos, sin) = RopeTables(t);
        var x = _body.EmbedTokens.forward(inputIds);
        List<Tensor>? hidden = options.OutputHiddenStates ? [x] : null;
        AttentionCapture? capture = null;
        for (var i = 0; i < _body.Layers.Count; i++)
        {
            var want = options.CaptureAttentionLayer == i;
            x = _body.Layers[i].Forward(x, cos, sin, want, out var c);
            if (want)
            {
                capture = c;
            }

            hidden?.Add(x);
        }

        x = _body.Norm.forward(x);
        var logits = _lmHead is null ? nn.functional.linear(x, _body.EmbedTokens.weight!) : _lmHead.forward(x);
        return new ModelOutput(logits, hidden, capture);
    }

    /// <summary>Sets the warm-up blend λ of every <see cref="BitLinear"/> (0 = full precision, 1 = fully quantized).</summary>
    public void SetQuantizationLambda(double lambda)
    {
        if (lambda is < 0 or > 1 || double.IsNaN(lambda))
        {
            throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "λ must be in [0, 1]");
        }

        foreach (var b in BitLinearLayers())
        {
            b.Lambda = lambda;
        }
    }

    /// <summary>Every ternary layer once (TorchSharp's modules() may list a nested module more than once).</summary>
    public IReadOnlyList<BitLinear> BitLinearLayers() => modules().OfType<BitLinear>().Distinct().ToList();

    /// <summary>Parameters by Hugging Face name (the tied LM head is not listed: it is <c>model.embed_tokens.weight</c>).</summary>
    public IReadOnlyDictionary<string, TorchSharp.Modules.Parameter> NamedParameters() =>
        named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);

    /// <summary>Writes a Hugging Face checkpoint directory: config.json and model.safetensors (float32).</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        var writer = new SafeTensorsWriter().AddMetadata("format", "pt");
        foreach (var (name, p) in named_parameters())
        {
            using var cpu = p.detach().to(ScalarType.Float32).cpu().contiguous();
            writer.Add(name, cpu.data<float>().ToArray(), cpu.shape);
        }

        writer.WriteTo(Path.Combine(directory, "model.safetensors"));
        Config.Save(Path.Combine(directory, "config.json"));
    }

    /// <summary>
    /// Loads a Hugging Face checkpoint directory (config.json plus model.safetensors or a sharded
    /// model.safetensors.index.json) in float32 on <paramref name="device"/>; every parameter must be present with its shape.
    /// </summary>
    public static CausalLanguageModel Load(string directory, Device? device = null)
    {
        var configPath = Path.Combine(directory, "config.json");
        if (!File.Exists(configPath))
        {
            throw new FileNotFoundException($"'{directory}' is not a checkpoint directory: config.json is missing", configPath);
        }

        var config = ModelConfig.Load(configPath);
        var model = new CausalLanguageModel(config, device);
        var files = new Dictionary<string, SafeTensorsFile>(StringComparer.Ordinal);
        try
        {
            var location = TensorLocations(directory, files);
            var parameters = model.NamedParameters();
            using (no_grad())
            {
                foreach (var (name, p) in parameters)
                {
                    if (!location.TryGetValue(name, out var file))
                    {
                        throw new InvalidDataException($"{directory}: tensor '{name}' is missing from the checkpoint (config says {Describe(config)})");
                    }

                    var info = file.Get(name);
                    if (!info.Shape.SequenceEqual(p.shape))
                    {
                        throw new InvalidDataException(
                            $"{file.Path}: tensor '{name}' has shape [{string.Join(", ", info.Shape)}], the config needs [{string.Join(", ", p.shape)}]");
                    }

                    using var values = tensor(file.ReadFloat32(name), p.shape);
                    p.copy_(values);
                }
            }

            foreach (var name in location.Keys)
            {
                var ignorable = name.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal) || (config.TieWordEmbeddings && name == "lm_head.weight");
                if (!parameters.ContainsKey(name) && !ignorable)
                {
                    throw new InvalidDataException($"{location[name].Path}: tensor '{name}' is not part of a model with this config ({Describe(config)})");
                }
            }
        }
        catch
        {
            model.Dispose();
            throw;
        }
        finally
        {
            foreach (var f in files.Values)
            {
                f.Dispose();
            }
        }

        return model;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _cos?.Dispose();
            _sin?.Dispose();
        }

        base.Dispose(disposing);
    }

    private static string Describe(ModelConfig c) =>
        $"{c.ModelType}, {c.NumHiddenLayers} layers, ternary={c.Ternary}, subln={c.SubLn}, tied={c.TieWordEmbeddings}";

    private static Dictionary<string, SafeTensorsFile> TensorLocations(string directory, Dictionary<string, SafeTensorsFile> files)
    {
        var result = new Dictionary<string, SafeTensorsFile>(StringComparer.Ordinal);
        var single = Path.Combine(directory, "model.safetensors");
        var index = Path.Combine(directory, "model.safetensors.index.json");
        IEnumerable<string> shards;
        if (File.Exists(single))
        {
            shards = [single];
        }
        else if (File.Exists(index))
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(index));
            if (!doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{index}: weight_map (object of tensor name → shard file) is missing");
            }

            shards = map.EnumerateObject().Select(p => Path.Combine(directory, p.Value.GetString() ?? "")).Distinct().ToList();
        }
        else
        {
            throw new FileNotFoundException($"'{directory}' has neither model.safetensors nor model.safetensors.index.json", single);
        }

        foreach (var shard in shards)
        {
            var file = SafeTensorsFile.Open(shard);
            files[shard] = file;
            foreach (var name in file.Tensors.Keys)
            {
                result[name] = file;
            }
        }

        return result;
    }

    private (Tensor Cos, Tensor Sin) RopeTables(long length)
    {
        var device = Device;
        if (_cos is null || _cos.shape[0] < length || _cos.device != device)
        {
            _cos?.Dispose();
            _sin?.Dispose();
            var (cos, sin) = Rotary.Tables(Math.Max(length, 64), Config.HeadDimension, Config.RopeTheta, device);
            _cos = cos.DetachFromDisposeScope();
            _sin = sin.DetachFromDisposeScope();
        }

        return (_cos.narrow(0, 0, length), _sin!.narrow(0, 0, length));
    }
}
