using System.Diagnostics;
using System.Text;
using System.Text.Json;
using WrinkleFree.Testing;

namespace WrinkleFree.Replica.Tests;

/// <summary>`wf replica` as a real child process: environment configuration, and SIGTERM draining in-flight streams.</summary>
public sealed class ReplicaProcessTests
{
    /// <summary>The serving `wf` (no TorchSharp): what a replica node runs.</summary>
    internal static string WfDll => WfBuild.Serving.Dll;

    [Fact]
    public async Task Replica_Sigterm_DrainsTheInFlightStreamAndExitsZero()
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { WfDll, "replica", "--port", "0", "--model-id", "tiny" })
        {
            psi.ArgumentList.Add(a);
        }

        // Everything else comes from the environment, as the service YAML sets it; --port on the command line wins over PORT.
        psi.Environment["MODEL_PATH"] = TestReplica.ModelPath;
        psi.Environment["HOST"] = "127.0.0.1";
        psi.Environment["PORT"] = "1";
        psi.Environment["NUM_THREADS"] = "1";
        psi.Environment["WF_PEAK_BANDWIDTH_GBPS"] = "10";
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            var address = await ReadUntilAsync(process, "listening on ");
            await ReadUntilAsync(process, "ready");
            using var client = new HttpClient { BaseAddress = new Uri(address), Timeout = TestReplica.Timeout };
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
            {
                Content = new StringContent(TestReplica.Json(new { prompt = "Long story", max_tokens = 300, stream = true, stream_options = new { include_usage = true } }), Encoding.UTF8, "application/json"),
            };
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead).WaitAsync(TestReplica.Timeout);

            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync().WaitAsync(TestReplica.Timeout);
            }

            var (events, done) = await TestReplica.ReadSseAsync(response);
            Assert.True(done);
            Assert.Equal(300, events[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32());
            await process.WaitForExitAsync().WaitAsync(TestReplica.Timeout);
            Assert.Equal(0, process.ExitCode);
            Assert.Contains("Draining", await stderr.WaitAsync(TestReplica.Timeout) + await process.StandardOutput.ReadToEndAsync().WaitAsync(TestReplica.Timeout));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task Replica_MissingModel_ExitsWithAnErrorNamingTheOption()
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(WfDll);
        psi.ArgumentList.Add("replica");
        psi.Environment.Remove("MODEL_PATH");
        using var process = Process.Start(psi)!;
        var stderr = await process.StandardError.ReadToEndAsync().WaitAsync(TestReplica.Timeout);
        await process.WaitForExitAsync().WaitAsync(TestReplica.Timeout);

        Assert.Equal(2, process.ExitCode);
        Assert.Contains("ModelPath", stderr);
    }

    private static async Task<string> ReadUntilAsync(Process process, string prefix)
    {
        while (await process.StandardOutput.ReadLineAsync().WaitAsync(TestReplica.Timeout) is { } line)
        {
            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                return line[prefix.Length..];
            }
        }

        throw new InvalidOperationException($"wf replica exited before printing '{prefix}'");
    }
}
