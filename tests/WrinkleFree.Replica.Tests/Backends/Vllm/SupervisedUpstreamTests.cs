using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using WrinkleFree.Replica.Backends;
using static WrinkleFree.Replica.Tests.Backends.Vllm.VllmTestSupport;

namespace WrinkleFree.Replica.Tests.Backends.Vllm;

/// <summary>The vllm backend running its upstream as a real child process (the fake vLLM's dll under dotnet).</summary>
public sealed class SupervisedUpstreamTests
{
    private static readonly string FakeDll = Path.Combine(AppContext.BaseDirectory, "WrinkleFree.FakeUpstream.dll");

    // The test host runs under the same dotnet that can run the fake.
    private static readonly string Dotnet = Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";

    private static string FakeCommand => $"'{Dotnet}' '{FakeDll}' --port \"$UPSTREAM_PORT\"";

    [Fact]
    public async Task UpstreamCommand_ChildKilled_GoesUnavailableRestartsAndServesAgain()
    {
        await using var backend = await StartReadyAsync(FastOptions(command: "exec " + FakeCommand));
        var first = backend.UpstreamProcessId!.Value;
        Assert.Equal("fake-model", backend.ModelId);
        Assert.Equal(2, (await Generate(backend))[^1].CompletionTokens);

        var unavailable = backend.WaitForStateAsync(BackendState.Unavailable, CancellationToken.None);
        using (var child = Process.GetProcessById(first))
        {
            child.Kill(); // SIGKILL
        }

        await unavailable.WaitAsync(Deadline);
        await backend.WaitForStateAsync(BackendState.Ready, CancellationToken.None).WaitAsync(Deadline);
        var second = backend.UpstreamProcessId!.Value;
        Assert.NotEqual(first, second);
        Assert.False(IsAlive(first));
        Assert.Equal(2, (await Generate(backend))[^1].CompletionTokens);

        await backend.DisposeAsync().AsTask().WaitAsync(Deadline);
        Assert.False(IsAlive(second));
        Assert.Null(backend.UpstreamProcessId);
    }

    [Fact]
    public async Task DisposeAsync_ShellWithChildren_StopsTheWholeProcessGroup()
    {
        // No exec: the shell stays as the parent of dotnet, as with a launcher script.
        var backend = await StartReadyAsync(FastOptions(command: FakeCommand + "; echo upstream exited"));
        var shell = backend.UpstreamProcessId!.Value;
        using var http = new HttpClient();
        using var health = await http.GetFromJsonAsync<JsonDocument>(new Uri(backend.UpstreamBaseUrl, "health")).WaitAsync(Deadline);
        var server = health!.RootElement.GetProperty("pid").GetInt32();
        Assert.NotEqual(shell, server);
        Assert.True(IsAlive(server));

        await backend.DisposeAsync().AsTask().WaitAsync(Deadline);

        Assert.False(IsAlive(shell));
        Assert.False(IsAlive(server));
        Assert.Equal(BackendState.Unavailable, backend.State);
    }

    [Fact]
    public async Task UpstreamCommand_CrashesAtStartup_ReportsUnavailableAndRestartsUntilItRuns()
    {
        var marker = Path.Combine(Path.GetTempPath(), $"wf-vllm-crash-{Guid.NewGuid():N}");
        try
        {
            // First run exits at once (as a misconfigured vLLM would); the restart succeeds.
            var command = $"if [ -e '{marker}' ]; then exec {FakeCommand}; else touch '{marker}'; exit 3; fi";
            await using var backend = new WrinkleFree.Replica.Backends.Vllm.VllmBackend(FastOptions(command: command));
            var unavailable = backend.WaitForStateAsync(BackendState.Unavailable, CancellationToken.None);
            await backend.StartAsync(CancellationToken.None).WaitAsync(Deadline);

            await unavailable.WaitAsync(Deadline);
            await backend.WaitForStateAsync(BackendState.Ready, CancellationToken.None).WaitAsync(Deadline);
            Assert.Equal(2, (await Generate(backend))[^1].CompletionTokens);
        }
        finally
        {
            File.Delete(marker);
        }
    }

    private static Task<List<GenerationEvent>> Generate(IInferenceBackend backend) =>
        CollectAsync(backend.GenerateAsync(new GenerationInput { PromptText = "hi", MaxTokens = 2 }, CancellationToken.None));

    /// <summary>Alive and not a zombie (an orphan's zombie may linger when the container's init does not reap).</summary>
    private static bool IsAlive(int pid)
    {
        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return false;
        }

        var state = stat[(stat.LastIndexOf(')') + 2)..][0];
        return state is not ('Z' or 'X');
    }
}
