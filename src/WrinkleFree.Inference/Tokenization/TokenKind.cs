namespace WrinkleFree.Inference.Tokenization;

/// <summary>Token types as stored in <c>tokenizer.ggml.token_type</c> (llama.cpp's <c>llama_token_type</c> values).</summary>
internal enum TokenKind : byte
{
    Undefined = 0,
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
}
