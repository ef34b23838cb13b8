using System.Net.Http.Json;
using Microsoft.Extensions.Logging.Abstractions;
using WrinkleFree.Service.Controller;
using WrinkleFree.Service.Providers;
using WrinkleFree.Service.State;

namespace WrinkleFree.Testing;

/// <summary>
/// Service "svc" in this process as the daemon runs it: a store in <see cref="Home"/>, the local provider plus the tier
/// providers a test gives (Kubernetes against its API double, cloud against the EC2 double), a PKI folder (every replica
/// off this machine serves mutual TLS), ticks every 300 ms, and the built serving wf first on the replicas' PATH.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class InProcessService : IAsyncDisposable
{
    private readonly HttpClient _http;
    private readonly TimeSpan _deadline;
    private readonly IReadOnlyList<IReplicaProvider> _tierProviders;
    private bool _left;

    private InProcessService(string home, ServiceStore store, ServiceController controller, TimeSpan deadline, IReadOnlyList<IReplicaProvider> tierProviders)
    {
        _tierProviders = tierProviders;
        Home = home;
        Store = store;
        Controller = controller;
        _deadline = deadline;
        _http = new HttpClient { BaseAddress = controller.Snapshot.Endpoint, Timeout = TimeSpan.FromSeconds(60) };
    }

    public string Home { get; }

    public ServiceStore Store { get; }

    public ServiceController Controller { get; }

    /// <summary>
    /// Opens the store in <paramref name="home"/> (creating service "svc" with <paramref name="spec"/> the first time) and
    /// starts its controller; <paramref name="configure"/> adjusts the controller's options.
    /// </summary>
    public static async Task<InProcessService> StartAsync(
        string home, string spec, IReadOnlyDictionary<string, IReplicaProvider> tierProviders, TimeSpan deadline,
        Func<ServiceControllerOptions, ServiceControllerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(tierProviders);
        var providers = new Dictionary<string, IReplicaProvider>(tierProviders)
        {
            [ProviderNames.Local] = new LocalProviderFactory().Create(new ReplicaProviderContext(home, TimeProvider.System, NullLoggerFactory.Instance)),
        };
        using var timeout = new CancellationTokenSource(deadline);
        var store = await ServiceStore.OpenAsync(Path.Combine(home, "state.db"), TimeProvider.System, null, timeout.Token);
        if (await store.GetServiceAsync("svc", timeout.Token) is null)
            await store.CreateServiceAsync("svc", spec, "CONTROLLER_INIT", timeout.Token);

        var options = new ServiceControllerOptions
        {
            TickInterval = TimeSpan.FromMilliseconds(300),
            DrainTimeout = TimeSpan.FromSeconds(5),
            PkiFolder = Path.Combine(home, "pki"),
            ExtraEnvironment = new Dictionary<string, string> { ["PATH"] = LocalBin(home) + ":" + Environment.GetEnvironmentVariable("PATH") },
        };
        var controller = await ServiceController.StartAsync("svc", store, providers, configure?.Invoke(options) ?? options, TimeProvider.System, null, timeout.Token);
        return new InProcessService(home, store, controller, deadline, [.. tierProviders.Values]);
    }

    /// <summary>Polls the controller's snapshot until <paramref name="condition"/> holds; fails naming <paramref name="what"/> and the replicas.</summary>
    public async Task<ServiceSnapshot> WaitForAsync(Func<ServiceSnapshot, bool> condition, string what)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var deadline = DateTime.UtcNow + _deadline;
        while (true)
        {
            var snapshot = Controller.Snapshot;
            if (condition(snapshot))
                return snapshot;
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}: " + string.Join(", ", snapshot.Replicas.Select(r => $"{r.Id}:{r.Tier}:{r.Status}:{r.FailureReason}")));
            await Task.Delay(200);
        }
    }

    /// <summary>One completion through the service's endpoint; the error when it failed.</summary>
    public async Task<string?> TryCompleteAsync()
    {
        try
        {
            using var response = await _http.PostAsJsonAsync("/v1/completions", new { prompt = "Once upon a time", max_tokens = 2 });
            return response.IsSuccessStatusCode ? null : $"HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}";
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return e.Message;
        }
    }

    public async Task CompleteAsync() => Assert.Null(await TryCompleteAsync());

    /// <summary>Stops the controller (and the tier providers that hold connections) and leaves every replica running, as a daemon that dies does.</summary>
    public async Task LeaveRunningAsync()
    {
        _left = true;
        await Controller.DisposeAsync().AsTask().WaitAsync(_deadline);
        foreach (var provider in _tierProviders.OfType<IAsyncDisposable>())
            await provider.DisposeAsync();
        Store.Dispose();
        _http.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (_left)
            return;
        using var timeout = new CancellationTokenSource(_deadline);
        await Controller.ShutdownAsync(timeout.Token).WaitAsync(_deadline);
        await Controller.DisposeAsync().AsTask().WaitAsync(_deadline);
        Store.Dispose();
        _http.Dispose();
    }

    // `wf` as the replicas' run: calls it: the built serving wf, as an installed one would be.
    private static string LocalBin(string home)
    {
        var bin = Directory.CreateDirectory(Path.Combine(home, "local-bin")).FullName;
        var wf = Path.Combine(bin, "wf");
        File.WriteAllText(wf, $"#!/bin/sh\n# Test stand-in for the installed serving wf: the built serving wf.\nexec dotnet {WfBuild.Serving.Dll} \"$@\"\n");
        File.SetUnixFileMode(wf, (UnixFileMode)0x1ED);
        return bin;
    }
}
