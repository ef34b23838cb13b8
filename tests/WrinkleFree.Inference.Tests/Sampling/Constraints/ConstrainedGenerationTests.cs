using System.Text;
using System.Text.Json;
using WrinkleFree.Inference.Batching;
using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;
using WrinkleFree.Inference.Sampling;
using WrinkleFree.Inference.Sampling.Constraints;
using WrinkleFree.Inference.Tests.Models;
using WrinkleFree.Testing;

namespace WrinkleFree.Inference.Tests.Sampling.Constraints;

/// <summary>
/// Generates on the tiny synthetic model (random weights, which would ramble) under schema constraints, across seeds and
/// temperatures: every finished document parses, validates, and ends with finish reason stop.
/// </summary>
[Collection(SyntheticModelCollection.Name)]
public sealed class ConstrainedGenerationTests(SyntheticModelFixture models)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);

    public static TheoryData<string> Schemas { get; } =
    [
        """{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"],"additionalProperties":false}""",
        """{"type":"object","properties":{"name":{"type":"string","maxLength":6},"age":{"type":"integer"}},"required":["name","age"],"additionalProperties":false}""",
        """{"type":"object","properties":{"color":{"enum":["red","green","blue"]},"n":{"type":"null"}},"required":["color"],"additionalProperties":false}""",
        """{"type":"array","items":{"type":"string","maxLength":3},"minItems":1,"maxItems":3}""",
        """{"type":"object","properties":{"point":{"type":"object","properties":{"x":{"type":"number"},"y":{"type":"number"}},"required":["x","y"],"additionalProperties":false},"tags":{"type":"array","items":{"enum":["a","b"]},"maxItems":2}},"required":["point"],"additionalProperties":false}""",
        """{"anyOf":[{"type":"integer"},{"type":"object","properties":{"id":{"type":"string","format":"uuid"}},"required":["id"],"additionalProperties":false}]}""",
        """{"$defs":{"leaf":{"type":"object","properties":{"v":{"type":"boolean"},"w":{"const":"k"}},"required":["v","w"],"additionalProperties":false}},"type":"object","properties":{"l":{"$ref":"#/$defs/leaf"},"d":{"type":"string","format":"date"}},"required":["l","d"],"additionalProperties":false}""",
    ];

    [Theory]
    [MemberData(nameof(Schemas))]
    public async Task GenerateAsync_JsonSchema_OutputParsesAndValidates(string schemaText)
    {
        using var schema = JsonDocument.Parse(schemaText);
        var grammar = JsonSchemaConstraint.Compile(schema.RootElement);
        using var model = Model.Load(models.Path(GgmlType.TQ2_0));
        using var engine = new InferenceEngine(model, new EngineOptions { Threads = 1, MaxSequences = 8 });
        var prompt = model.Tokenizer.Encode("Answer in JSON:");
        var runs = new List<Task<(string Text, FinishReason? Finish)>>();
        foreach (var temperature in new[] { 0f, 0.7f, 1.5f })
        {
            for (ulong seed = 1; seed <= 3; seed++)
            {
                runs.Add(Generate(engine, new GenerationRequest
                {
                    PromptTokens = prompt,
                    MaxTokens = 400,
                    Sampling = new SamplingOptions { Temperature = temperature, Seed = seed },
                    Constraint = grammar.CreateConstraint,
                }));
            }
        }

        var finished = 0;
        foreach (var run in runs)
        {
            var (text, finish) = await run.WaitAsync(Deadline);
            if (finish == FinishReason.Length)
            {
                // Truncation only at max_tokens, and what was written is still a valid start.
                Assert.True(grammar.AcceptsPrefix(text), $"truncated output left the grammar: {text}");
                continue;
            }

            Assert.Equal(FinishReason.Stop, finish);
            using var output = JsonDocument.Parse(text);
            Assert.Null(JsonSchemaValidator.Validate(schema.RootElement, output.RootElement));
            finished++;
        }

        Assert.True(finished >= runs.Count / 2, $"only {finished} of {runs.Count} documents finished within max_tokens");
    }

    [Fact]
    public async Task GenerateAsync_Grammar_OutputMatchesAndStops()
    {
        var grammar = Grammar.Parse("""
            root ::= "answer: " ( "yes" | "no" ) " (" [0-9]{1,2} "%)"
            """);
        using var model = Model.Load(models.Path(GgmlType.TQ2_0));
        using var engine = new InferenceEngine(model, new EngineOptions { Threads = 1, MaxSequences = 4 });
        for (ulong seed = 1; seed <= 4; seed++)
        {
            var (text, finish) = await Generate(engine, new GenerationRequest
            {
                PromptTokens = model.Tokenizer.Encode("Q"),
                MaxTokens = 64,
                Sampling = new SamplingOptions { Temperature = 1, Seed = seed },
                Constraint = grammar.CreateConstraint,
            }).WaitAsync(Deadline);
            Assert.Equal(FinishReason.Stop, finish);
            Assert.Matches(@"^answer: (yes|no) \([0-9]{1,2}%\)$", text);
        }
    }

    [Fact]
    public async Task GenerateAsync_SameSeedWithAndWithoutConstraint_UnconstrainedPathUnchanged()
    {
        using var model = Model.Load(models.Path(GgmlType.TQ2_0));
        using var engine = new InferenceEngine(model, new EngineOptions { Threads = 1, MaxSequences = 4 });
        var request = new GenerationRequest
        {
            PromptTokens = model.Tokenizer.Encode("Once"),
            MaxTokens = 12,
            IgnoreEos = true,
            Sampling = new SamplingOptions { Temperature = 0.8f, Seed = 5 },
        };
        var plain = await Generate(engine, request).WaitAsync(Deadline);

        // A grammar that allows any text leaves every non-special token possible, so the draw is the same.
        var any = Grammar.Parse("root ::= .*");
        var constrained = await Generate(engine, request with { Constraint = any.CreateConstraint }).WaitAsync(Deadline);
        Assert.Equal(plain, constrained);
    }

    private static async Task<(string Text, FinishReason? Finish)> Generate(InferenceEngine engine, GenerationRequest request)
    {
        var text = new StringBuilder();
        FinishReason? finish = null;
        await foreach (var update in engine.GenerateAsync(request))
        {
            text.Append(update.Text);
            finish = update.FinishReason ?? finish;
        }

        return (text.ToString(), finish);
    }
}
