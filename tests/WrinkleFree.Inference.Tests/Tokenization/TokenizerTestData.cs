using WrinkleFree.Inference.Tokenization;

namespace WrinkleFree.Inference.Tests.Tokenization;

/// <summary>Shared inputs for the tokenizer tests.</summary>
internal static class TokenizerTestData
{
    /// <summary>The embedded training corpus (English prose, numbers, code).</summary>
    public static string CorpusText => SmallCorpus.Text;
}
