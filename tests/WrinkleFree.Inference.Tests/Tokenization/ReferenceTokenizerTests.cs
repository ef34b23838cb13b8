using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;
using WrinkleFree.Inference.Tokenization;
using MlBpe = Microsoft.ML.Tokenizers.BpeTokenizer;

namespace WrinkleFree.Inference.Tests.Tokenization;

/// <summary>Compares the GPT-2 BPE against Microsoft.ML.Tokenizers built from the same GGUF vocabulary and merges.</summary>
public sealed class ReferenceTokenizerTests
{
    private static readonly Lazy<MlBpe> Reference = new(CreateReference);

    public static TheoryData<int> SampleIndexes()
    {
        var data = new TheoryData<int>();
        for (var i = 0; i < SampleTexts.All.Length; i++)
        {
            data.Add(i);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(SampleIndexes))]
    public void Encode_Gpt2MultilingualText_MatchesMicrosoftMlTokenizers(int index)
    {
        var text = SampleTexts.All[index];
        var ours = VocabTestCases.Load("gpt-2").Encode(text, addSpecial: false, parseSpecial: false);
        var reference = Reference.Value.EncodeToIds(text);
        Assert.Equal(reference, ours);
    }

    [Fact]
    public void Encode_Gpt2LongEnglishText_MatchesMicrosoftMlTokenizers()
    {
        var text = string.Join("\n\n", SampleTexts.All) + "\n" + TokenizerTestData.CorpusText;
        var ours = VocabTestCases.Load("gpt-2").Encode(text, addSpecial: false, parseSpecial: false);
        Assert.Equal(Reference.Value.EncodeToIds(text), ours);
    }

    private static MlBpe CreateReference()
    {
        var metadata = VocabTestCases.Metadata("gpt-2");
        var tokens = metadata.GetArray<string>("tokenizer.ggml.tokens")!;
        var vocabulary = tokens.Select((t, i) => new KeyValuePair<string, int>(t, i));
        var regex = new Regex(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+", RegexOptions.Compiled);
        return MlBpe.Create(new BpeOptions(vocabulary)
        {
            Merges = metadata.GetArray<string>("tokenizer.ggml.merges")!,
            ByteLevel = true,
            PreTokenizer = new RegexPreTokenizer(regex, null),
        });
    }
}
