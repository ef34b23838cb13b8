using System.Diagnostics;
using WrinkleFree.Testing;

namespace WrinkleFree.Service.Tests.Observability;

/// <summary>
/// deploy/prometheus as shipped, checked by the real promtool: the scrape configuration, the rules, and the rules' unit
/// tests (each alert firing and not firing, wrinklefree.rules.test.yml). A failure shows promtool's own output.
/// </summary>
public sealed class PrometheusRulesTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    internal static string DeployFolder { get; } = Path.Combine(RepositoryPaths.Root, "deploy", "prometheus");

    [Fact]
    public async Task PromtoolCheckConfig_ShippedPrometheusYml_IsValid()
    {
        // The file_sd files live on the server ($WF_HOME/prometheus); promtool warns that they are absent here, and passes.
        // The credentials file must exist, though: the config is checked with that folder moved to one holding a key.
        var folder = Path.Combine(Path.GetTempPath(), "wf-promtool-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            File.WriteAllText(Path.Combine(folder, "replica.key"), "key\n");
            var config = File.ReadAllText(Path.Combine(DeployFolder, "prometheus.yml")).Replace(PrometheusScrapeTests.ShippedFileSdFolder, folder, StringComparison.Ordinal);
            Directory.CreateDirectory(Path.Combine(folder, "rules"));
            File.Copy(Path.Combine(DeployFolder, "rules", "wrinklefree.rules.yml"), Path.Combine(folder, "rules", "wrinklefree.rules.yml"));
            var path = Path.Combine(folder, "prometheus.yml");
            File.WriteAllText(path, config);
            await AssertPromtoolPassesAsync("check", "config", path);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task PromtoolCheckRules_ShippedRules_AreValid()
    {
        await AssertPromtoolPassesAsync("check", "rules", Path.Combine("rules", "wrinklefree.rules.yml"));
    }

    [Fact]
    public async Task PromtoolTestRules_EveryAlertFiresAndStaysSilentAsItsTestsSay()
    {
        var output = await AssertPromtoolPassesAsync("test", "rules", Path.Combine("rules", "wrinklefree.rules.test.yml"));
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }

    [Fact]
    public void RulesTests_CoverEveryAlert()
    {
        var rules = File.ReadAllText(Path.Combine(DeployFolder, "rules", "wrinklefree.rules.yml"));
        var tests = File.ReadAllText(Path.Combine(DeployFolder, "rules", "wrinklefree.rules.test.yml"));
        var alerts = rules.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("- alert: ", StringComparison.Ordinal)).Select(l => l["- alert: ".Length..]).ToList();

        Assert.True(alerts.Count >= 8, string.Join(", ", alerts));
        foreach (var alert in alerts)
        {
            var cases = tests.Split('\n').Count(l => l.Trim() == "alertname: " + alert);
            // One evaluation where it must not fire (below the threshold or before its `for:`), one where it must.
            Assert.True(cases >= 2, $"{alert} has {cases} alert_rule_test cases in wrinklefree.rules.test.yml; it needs a firing and a silent one");
        }
    }

    private static async Task<string> AssertPromtoolPassesAsync(params string[] args)
    {
        var info = new ProcessStartInfo(PrometheusServer.Tool("promtool"))
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = DeployFolder,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(Deadline);
        }
        catch (TimeoutException)
        {
            process.Kill();
            throw;
        }

        var output = await stdout.WaitAsync(Deadline) + await stderr.WaitAsync(Deadline);
        Assert.True(process.ExitCode == 0, $"promtool {string.Join(' ', args)} exited {process.ExitCode}:\n{output}");
        return output;
    }
}
