using WrinkleFree.Fuzz.Targets;
using Xunit.Abstractions;

namespace WrinkleFree.Fuzz.Tests;

/// <summary>
/// Each harness over its whole seed corpus and a fixed number of seeded mutations: no input may crash a parser. Counts are
/// sized so the four targets together take well under a minute on two cores; a failure names each distinct crash and the
/// file its first input was saved to.
/// </summary>
public sealed class FuzzTargetTests(ITestOutputHelper output)
{
    public static TheoryData<string, int> Targets => new()
    {
        { "gguf", 20_000 },
        { "request", 20_000 },
        { "jinja", 15_000 },
        { "spec", 6_000 },
    };

    [Theory]
    [MemberData(nameof(Targets))]
    public void Run_CorpusAndSeededMutations_NoCrash(string name, int mutations)
    {
        var target = FuzzTargets.Find(name) ?? throw new InvalidOperationException($"no target {name}");
        var corpus = Corpus.Load(Corpus.DefaultDirectory(name));
        var crashes = Path.Combine(Path.GetTempPath(), "wf-fuzz-tests", $"{name}-{Environment.ProcessId}");

        var report = FuzzRunner.Run(target, corpus, mutations, seed: 20261205, crashes);

        output.WriteLine(report.ToString());
        Assert.Equal(corpus.Count + mutations, report.Executions);
        Assert.True(report.Crashes.Count == 0, $"{report}; crashing inputs saved under {crashes}:\n{string.Join("\n", report.Crashes)}");
    }

    [Fact]
    public void Corpus_EveryTarget_HasSeedsThatParse()
    {
        foreach (var target in FuzzTargets.All)
        {
            var corpus = Corpus.Load(Corpus.DefaultDirectory(target.Name));
            Assert.NotEmpty(corpus);

            // At least one seed is accepted whole: a corpus of only broken inputs would never reach the deeper code.
            Assert.Contains(corpus, input => target.Execute(input));
        }
    }

    [Fact]
    public void Mutator_SameSeed_SameInputs()
    {
        byte[][] corpus = [[1, 2, 3, 4, 5], "{\"a\": 1}"u8.ToArray()];
        var a = new Mutator(corpus, [], 1024, seed: 7);
        var b = new Mutator(corpus, [], 1024, seed: 7);
        for (var i = 0; i < 1000; i++)
        {
            var next = a.Next();
            Assert.Equal(next, b.Next());
            Assert.True(next.Length <= 1024);
        }
    }
}
