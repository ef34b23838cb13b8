using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;
using WrinkleFree.Inference.Tokenization;

namespace WrinkleFree.Fuzz.Targets;

/// <summary>
/// The GGUF reader as <c>Model.Load</c> drives it before touching tensor data: header, metadata and tensor infos, then
/// the architecture, the tokenizer built from metadata and the hyper-parameters. Clean rejections:
/// <see cref="GgufFormatException"/> and the unsupported-architecture <see cref="NotSupportedException"/>.
/// </summary>
internal sealed unsafe class GgufTarget : FuzzTarget
{
    public override string Name => "gguf";

    public override int MaxInputBytes => 64 * 1024;

    public override IReadOnlyList<byte[]> Dictionary { get; } = Tokens(
        "GGUF", "general.architecture", "general.alignment", "bitnet", "llama", "qwen3", "wrinklefree", "gpt2",
        "tokenizer.ggml.model", "tokenizer.ggml.tokens", "tokenizer.ggml.merges", "tokenizer.ggml.token_type",
        "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id", "tokenizer.ggml.pre", "tokenizer.chat_template",
        "token_embd.weight", ".block_count", ".embedding_length", ".attention.head_count", ".feed_forward_length",
        ".context_length", ".rope.dimension_count", ".hidden_act", "relu2");

    public override bool Execute(ReadOnlySpan<byte> data)
    {
        // GgufFile.Open refuses a file shorter than the fixed header before mapping it.
        if (data.Length < 24)
        {
            return false;
        }

        try
        {
            GgufHeader header;
            fixed (byte* p = data)
            {
                header = GgufHeader.Parse(p, data.Length);
            }

            var architecture = header.Metadata.GetStringOrNull("general.architecture") ?? "";
            var arch = ArchitectureSpec.Find(architecture);
            var tokenizer = Tokenizer.FromGguf(header.Metadata);
            var embedding = header.Tensors.FirstOrDefault(t => t.Name == "token_embd.weight");
            var config = ModelConfig.FromGguf(header.Metadata, arch, embedding is null ? tokenizer.VocabSize : (int)embedding.Rows);
            _ = tokenizer.Encode("Hello <|eot_id|> world", addSpecial: true, parseSpecial: true);
            return config.Layers > 0;
        }
        catch (GgufFormatException)
        {
            return false;
        }
        catch (NotSupportedException e) when (e.Message.StartsWith("model architecture", StringComparison.Ordinal))
        {
            return false;
        }
    }
}
