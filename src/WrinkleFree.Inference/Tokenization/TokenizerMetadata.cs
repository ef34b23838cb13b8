using WrinkleFree.Inference.Gguf;

namespace WrinkleFree.Inference.Tokenization;

/// <summary>Writes the llama.cpp <c>tokenizer.*</c> keys of a byte-level BPE ("gpt2") vocabulary into a GGUF file.</summary>
public static class TokenizerMetadata
{
    /// <summary>A Llama-3-style template over the default special tokens (llama.cpp recognises it as "llama3").</summary>
    public const string DefaultChatTemplate =
        "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] + '<|eot_id|>' }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";

    /// <summary>
    /// Validates and writes a BPE vocabulary: each merge must be "left right" with both sides tokens and their concatenation
    /// a token; ids of -1 are left out (eot, padding).
    /// </summary>
    public static void Write(
        GgufWriter writer, string[] tokens, string[] merges, int[] tokenTypes, string pre, int bos, int eos,
        int eot = -1, bool addBos = true, bool addEos = false, string? chatTemplate = null, int padding = -1)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(merges);
        ArgumentNullException.ThrowIfNull(tokenTypes);
        if (tokenTypes.Length != tokens.Length)
        {
            throw new ArgumentException($"{tokenTypes.Length} token types for {tokens.Length} tokens", nameof(tokenTypes));
        }

        if (PreTokenizer.ForName(pre) is null)
        {
            throw new ArgumentException($"pre-tokenizer '{pre}' is not one llama.cpp and this tokenizer both know", nameof(pre));
        }

        var known = new HashSet<string>(tokens, StringComparer.Ordinal);
        for (var i = 0; i < merges.Length; i++)
        {
            var space = merges[i].Length > 1 ? merges[i].IndexOf(' ', 1) : -1;
            if (space < 0 || !known.Contains(merges[i][..space]) || !known.Contains(merges[i][(space + 1)..])
                || !known.Contains(merges[i].Remove(space, 1)))
            {
                throw new ArgumentException($"merge {i} '{merges[i]}' is not two tokens whose concatenation is a token", nameof(merges));
            }
        }

        writer.Add("tokenizer.ggml.model", "gpt2")
            .Add("tokenizer.ggml.pre", pre)
            .Add("tokenizer.ggml.tokens", GgufValue.Of(tokens))
            .Add("tokenizer.ggml.token_type", GgufValue.Of(tokenTypes))
            .Add("tokenizer.ggml.merges", GgufValue.Of(merges))
            .Add("tokenizer.ggml.bos_token_id", CheckId(bos, tokens.Length, nameof(bos)))
            .Add("tokenizer.ggml.eos_token_id", CheckId(eos, tokens.Length, nameof(eos)));
        if (eot >= 0)
        {
            writer.Add("tokenizer.ggml.eot_token_id", CheckId(eot, tokens.Length, nameof(eot)));
        }

        if (padding >= 0)
        {
            writer.Add("tokenizer.ggml.padding_token_id", CheckId(padding, tokens.Length, nameof(padding)));
        }

        writer.Add("tokenizer.ggml.add_bos_token", addBos)
            .Add("tokenizer.ggml.add_eos_token", addEos);
        if (chatTemplate is not null)
        {
            writer.Add("tokenizer.chat_template", chatTemplate);
        }
    }

    /// <summary>
    /// Writes <see cref="BpeVocabularyBuilder.DefaultSmallVocabulary"/> with pre "gpt-2", its special and reserved tokens
    /// as control tokens, bos "&lt;|begin_of_text|&gt;", eos "&lt;|end_of_text|&gt;", eot "&lt;|eot_id|&gt;".
    /// </summary>
    public static void WriteDefaultSmallVocabulary(GgufWriter writer, int vocabSize = 1024, string? chatTemplate = DefaultChatTemplate)
    {
        var (tokens, merges) = BpeVocabularyBuilder.DefaultSmallVocabulary(vocabSize);
        var types = new int[tokens.Length];
        for (var i = 0; i < tokens.Length; i++)
        {
            var control = tokens[i].Length > 4 && tokens[i].StartsWith("<|", StringComparison.Ordinal) && tokens[i].EndsWith("|>", StringComparison.Ordinal);
            types[i] = control ? 3 : 1;
        }

        var ids = tokens.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i, StringComparer.Ordinal);
        Write(writer, tokens, merges, types, "gpt-2", ids["<|begin_of_text|>"], ids["<|end_of_text|>"], ids["<|eot_id|>"],
            addBos: true, chatTemplate: chatTemplate);
    }

    private static uint CheckId(int id, int vocabSize, string name) =>
        id >= 0 && id < vocabSize ? (uint)id : throw new ArgumentOutOfRangeException(name, id, $"token id outside the vocabulary (0..{vocabSize - 1})");
}
