using TorchSharp;
using WrinkleFree.Training.Model;

namespace WrinkleFree.Training.Tests;

/// <summary>Shared set-up for torch tests: one or two threads (the CI machine has two cores) and tiny model configs.</summary>
internal static class TestTorch
{
    static TestTorch()
    {
        torch.set_num_threads(Math.Min(2, Environment.ProcessorCount));
        torch.random.manual_seed(1234);
    }

    /// <summary>A tiny Qwen3-style config (GQA 4/2 heads); call before creating tensors so the thread count is set.</summary>
    public static ModelConfig Tiny(string modelType = "qwen3", bool tied = true, bool ternary = false, bool subLn = false,
        int hidden = 32, int heads = 4, int kvHeads = 2, int ffn = 64, int vocab = 300, int layers = 2) => new()
    {
        ModelType = modelType,
        VocabSize = vocab,
        HiddenSize = hidden,
        IntermediateSize = ffn,
        NumHiddenLayers = layers,
        NumAttentionHeads = heads,
        NumKeyValueHeads = kvHeads,
        HeadDim = hidden / heads,
        TieWordEmbeddings = tied,
        Ternary = ternary,
        SubLn = subLn,
        MaxPositionEmbeddings = 128,
    };

    public static torch.Tensor Tokens(int batch, int time, int vocab, int seed = 7)
    {
        var gen = new torch.Generator((ulong)seed);
        return torch.randint(0, vocab, [batch, time], generator: gen);
    }

    public static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "wf-train-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static float MaxAbsDiff(torch.Tensor a, torch.Tensor b) => (a - b).abs().max().item<float>();
}
