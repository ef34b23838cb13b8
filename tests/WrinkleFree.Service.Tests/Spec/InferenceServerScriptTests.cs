using WrinkleFree.Service.Spec;

namespace WrinkleFree.Service.Tests.Spec;

/// <summary>The design's <c>python -m inference_server ARGS</c>: recognised only as one plain command.</summary>
public sealed class InferenceServerScriptTests
{
    [Theory]
    [InlineData("python -m inference_server --backend bitnet --model /models/dev.gguf\n", new[] { "--backend", "bitnet", "--model", "/models/dev.gguf" })]
    [InlineData("  python3 -m inference_server  ", new string[0])]
    [InlineData("python -m inference_server --model '/my models/a.gguf' --model-id \"tiny \\\"q\\\"\"", new[] { "--model", "/my models/a.gguf", "--model-id", "tiny \"q\"" })]
    [InlineData("python -m inference_server \\\n  --threads 4 --model=a\\ b.gguf", new[] { "--threads", "4", "--model=a b.gguf" })]
    public void Arguments_PlainCommand_AreTheWordsAfterTheModule(string run, string[] expected)
    {
        Assert.Equal(expected, InferenceServerScript.Arguments(run));
    }

    [Theory]
    [InlineData("python -m inference_server --model \"$MODEL_PATH\"")] // an expansion
    [InlineData("python -m inference_server --model $MODEL_PATH")]
    [InlineData("python -m inference_server --model /m/*.gguf")] // a glob
    [InlineData("python -m inference_server > out.log")] // a redirection
    [InlineData("python -m inference_server; echo done")] // two commands
    [InlineData("pip install x\npython -m inference_server")] // two lines
    [InlineData("exec python -m inference_server")]
    [InlineData("MLOCK=1 python -m inference_server")]
    [InlineData("python -m inference_server_v2")]
    [InlineData("python inference_server.py")]
    [InlineData("python -m inference_server --model 'unclosed")]
    [InlineData("wf replica")]
    public void Arguments_AnythingElse_IsNull(string run)
    {
        Assert.Null(InferenceServerScript.Arguments(run));
    }

    [Fact]
    public void MentionedButNotRecognised_ScriptNamingTheModule_True()
    {
        Assert.True(InferenceServerScript.MentionedButNotRecognised("python -m inference_server --model \"$MODEL_PATH\""));
        Assert.False(InferenceServerScript.MentionedButNotRecognised("python -m inference_server"));
        Assert.False(InferenceServerScript.MentionedButNotRecognised("wf replica"));
    }
}
