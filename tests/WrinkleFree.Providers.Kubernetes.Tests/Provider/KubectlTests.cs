using System.Diagnostics;
using System.Text.Json;
using WrinkleFree.Providers.Kubernetes.Tests.Support;
using Xunit.Abstractions;

namespace WrinkleFree.Providers.Kubernetes.Tests.Provider;

/// <summary>
/// The real kubectl against the test double, so the double's wire protocol is the API's and not just what the
/// provider's client happens to accept: what the provider created is what kubectl lists and describes.
/// </summary>
public sealed class KubectlTests(ITestOutputHelper output)
{
    [KubectlFact]
    public async Task Kubectl_GetAndDescribe_ListWhatTheProviderCreated()
    {
        await using var cluster = await TestCluster.StartAsync();
        var provider = cluster.NewProvider();
        var handle = await provider.LaunchAsync(TestCluster.Request(1), Poll.Token());
        await provider.LaunchAsync(TestCluster.Request(2), Poll.Token());
        await Poll.UntilAsync(() => cluster.Api.Pods(TestCluster.Namespace).All(p => p.Status.Phase == "Running"), "pods running");

        var (code, json, errors) = await RunAsync(cluster, "get", "pods", "-n", TestCluster.Namespace, "-l", "wrinklefree/service=svc", "-o", "json");
        Assert.True(code == 0, errors);
        using var list = JsonDocument.Parse(json);
        var items = list.RootElement.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["wf-svc-1", "wf-svc-2"], items.Select(i => i.GetProperty("metadata").GetProperty("name").GetString()));
        Assert.Equal(handle.PodUid, items[0].GetProperty("metadata").GetProperty("uid").GetString());

        (code, var described, errors) = await RunAsync(cluster, "describe", "pod", "wf-svc-1", "-n", TestCluster.Namespace);
        Assert.True(code == 0, errors);
        output.WriteLine(described);
        Assert.Matches(@"Name:\s+wf-svc-1", described);
        Assert.Matches(@"Namespace:\s+wf", described);
        Assert.Contains("wrinklefree/replica=1", described, StringComparison.Ordinal);
        Assert.Contains(TestCluster.Image, described, StringComparison.Ordinal);
        Assert.Matches(@"Status:\s+Running", described);
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(TestCluster cluster, params string[] args)
    {
        var info = new ProcessStartInfo(KubectlFactAttribute.Path!, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.Environment["KUBECONFIG"] = cluster.Kubeconfig;
        // kubectl caches discovery under HOME: a fresh one per test.
        info.Environment["HOME"] = cluster.Home;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync(Poll.Token(30));
        return (process.ExitCode, await stdout, await stderr);
    }
}
