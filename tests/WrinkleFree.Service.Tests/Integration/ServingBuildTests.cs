using WrinkleFree.Testing;

namespace WrinkleFree.Service.Tests.Integration;

/// <summary>The serving wf (src/wf-serving), which replica nodes and the service controller run, carries no TorchSharp.</summary>
public sealed class ServingBuildTests
{
    [Fact]
    public void ServingBuild_HasNoTorchSharpOrLibtorchFile()
    {
        var folder = Path.GetDirectoryName(WfBuild.Serving.Dll)!;
        Assert.True(File.Exists(WfBuild.Serving.Dll), $"the serving build is missing: {WfBuild.Serving.Dll}");

        var torch = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f).Contains("torch", StringComparison.OrdinalIgnoreCase))
            .ToList();

        Assert.Empty(torch);
        Assert.DoesNotContain("TorchSharp", File.ReadAllText(Path.Combine(folder, "wf.deps.json")), StringComparison.Ordinal);
        Assert.DoesNotContain("WrinkleFree.Training", File.ReadAllText(Path.Combine(folder, "wf.deps.json")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServingBuild_Train_ExitsTwoNamingTheFullBuild()
    {
        var (code, stdout, stderr) = await WfBuild.Serving.RunAsync(["train", "stage1", "--teacher", "x", "--out", "y"], TimeSpan.FromSeconds(60));

        Assert.Equal(2, code);
        Assert.Empty(stdout);
        Assert.Contains("serving build", stderr, StringComparison.Ordinal);
        Assert.Contains("src/wf", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ServingBuild_Help_ListsTheServingVerbs()
    {
        var (code, stdout, _) = await WfBuild.Serving.RunAsync(["--help"], TimeSpan.FromSeconds(60));

        Assert.Equal(0, code);
        foreach (var verb in new[] { "replica", "up", "status", "down", "jobs", "model" })
        {
            Assert.Contains(verb, stdout, StringComparison.Ordinal);
        }
    }
}
