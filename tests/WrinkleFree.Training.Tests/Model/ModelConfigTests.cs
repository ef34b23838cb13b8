using WrinkleFree.Training.Model;

namespace WrinkleFree.Training.Tests.Model;

public sealed class ModelConfigTests
{
    private const string Qwen3Json = """
        {
          "architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "vocab_size": 151936, "hidden_size": 1024,
          "intermediate_size": 3072, "num_hidden_layers": 28, "num_attention_heads": 16, "num_key_value_heads": 8,
          "head_dim": 128, "rope_theta": 1000000, "rms_norm_eps": 1e-06, "tie_word_embeddings": true, "hidden_act": "silu",
          "max_position_embeddings": 40960, "attention_bias": false, "rope_scaling": null, "bos_token_id": 151643,
          "eos_token_id": 151645, "torch_dtype": "bfloat16"
        }
        """;

    [Fact]
    public void FromJson_Qwen3_ReadsEveryKey()
    {
        var c = ModelConfig.FromJson(Qwen3Json);
        Assert.Equal("qwen3", c.ModelType);
        Assert.Equal(151936, c.VocabSize);
        Assert.Equal(128, c.HeadDimension);
        Assert.Equal(8, c.KeyValueHeads);
        Assert.Equal(1e6, c.RopeTheta);
        Assert.True(c.TieWordEmbeddings);
        Assert.True(c.QkNorm);
        Assert.Equal(151645, c.EosTokenId);
        Assert.False(c.Ternary);
    }

    [Fact]
    public void ToJson_RoundTrip_KeepsOurKeys()
    {
        var c = ModelConfig.FromJson(Qwen3Json) with { Ternary = true, SubLn = true };
        Assert.Equal(c, ModelConfig.FromJson(c.ToJson()));
    }

    [Fact]
    public void FromJson_LlamaDefaults_DerivesHeadDimAndRopeTheta()
    {
        var c = ModelConfig.FromJson("""
            {"model_type":"llama","vocab_size":32000,"hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,
             "num_attention_heads":4,"eos_token_id":[2, 3]}
            """);
        Assert.Equal(16, c.HeadDimension);
        Assert.Equal(4, c.KeyValueHeads);
        Assert.Equal(10000, c.RopeTheta);
        Assert.False(c.QkNorm);
        Assert.Equal(2, c.EosTokenId);
    }

    [Theory]
    [InlineData("""{"model_type":"gpt2"}""", "model_type 'gpt2'")]
    [InlineData("""{"model_type":"llama","hidden_size":64}""", "'vocab_size' is missing")]
    [InlineData("""{"model_type":"llama","vocab_size":"x"}""", "'vocab_size' must be an integer")]
    [InlineData("""{"model_type":"llama","vocab_size":10,"hidden_size":64,"intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":4,"num_key_value_heads":3}""", "num_key_value_heads = 3")]
    [InlineData("""{"model_type":"llama","rope_scaling":{"type":"llama3"}}""", "rope_scaling")]
    public void FromJson_BadConfig_NamesTheKey(string json, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => ModelConfig.FromJson(json, "x/config.json"));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("x/config.json", e.Message);
    }
}
