using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace WrinkleFree.Testing;

/// <summary>
/// A real Prometheus (Debian package <c>prometheus</c>) on a free loopback port, with a given configuration and its
/// storage in a temp folder, killed on dispose. Every scrape and evaluation interval of the configuration is shortened to
/// 1 s, so a test sees a target's first scrape within seconds. Nothing is skipped: without the binary the start fails
/// saying how to install it.
/// </summary>
public sealed partial class PrometheusServer : IAsyncDisposable
{
    /// <summary>The bound on the start and on each API call.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private const int OutputLines = 200;

    private readonly Process _process;
    private readonly TempDirectory _folder;
    private readonly Queue<string> _output;
    private readonly HttpClient _http;

    private PrometheusServer(Process process, TempDirectory folder, Queue<string> output, Uri baseUrl)
    {
        _process = process;
        _folder = folder;
        _output = output;
        BaseUrl = baseUrl;
        _http = new HttpClient { BaseAddress = baseUrl, Timeout = Timeout };
    }

    /// <summary>The server's base URL (http://127.0.0.1:PORT/).</summary>
    public Uri BaseUrl { get; }

    /// <summary>The folder holding prometheus.yml, the files given to <see cref="StartAsync"/> and the storage.</summary>
    public string Folder => _folder.Path;

    /// <summary>The last lines Prometheus logged, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output);
            }
        }
    }

    /// <summary>The path of <paramref name="name"/> (prometheus or promtool) on PATH; throws naming the package when absent.</summary>
    public static string Tool(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var path = Path.Combine(dir, name);
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new InvalidOperationException($"{name} is not installed: apt-get install prometheus (.ci/run does it)");
    }

    /// <summary>
    /// Writes <paramref name="config"/> (with its intervals shortened to 1 s) as prometheus.yml and each of
    /// <paramref name="files"/> (path relative to it, text) into a temp folder, starts Prometheus on 127.0.0.1 and returns
    /// once /-/ready answers 200.
    /// </summary>
    public static async Task<PrometheusServer> StartAsync(string config, IReadOnlyDictionary<string, string>? files = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        var binary = Tool("prometheus");
        var folder = new TempDirectory("wf-prometheus");
        try
        {
            foreach (var (relative, text) in files ?? new Dictionary<string, string>())
            {
                var path = Path.Combine(folder.Path, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                await File.WriteAllTextAsync(path, text, cancellationToken);
            }

            var configPath = Path.Combine(folder.Path, "prometheus.yml");
            await File.WriteAllTextAsync(configPath, ShortIntervals(config), cancellationToken);

            // The OS picks the port a moment before Prometheus binds it; another process may take it in between.
            for (var attempt = 1; ; attempt++)
            {
                var server = Start(binary, configPath, folder, FreePort.Next());
                try
                {
                    await server.WaitReadyAsync(cancellationToken);
                    return server;
                }
                catch (InvalidOperationException) when (attempt < 3 && server.Output.Contains("address already in use", StringComparison.Ordinal))
                {
                    await server.StopProcessAsync();
                }
                catch
                {
                    await server.StopProcessAsync();
                    throw;
                }
            }
        }
        catch
        {
            folder.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs an instant query (/api/v1/query) and returns its <c>data</c> object (<c>resultType</c>, <c>result</c>); a
    /// query Prometheus rejects throws an <see cref="InvalidOperationException"/> with its error.
    /// </summary>
    public async Task<JsonElement> QueryAsync(string promql, CancellationToken cancellationToken = default)
    {
        using var content = new FormUrlEncodedContent([new("query", promql)]);
        using var response = await _http.PostAsync(new Uri("api/v1/query", UriKind.Relative), content, cancellationToken).WaitAsync(Timeout, cancellationToken);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        var root = body.RootElement;
        if (root.GetProperty("status").GetString() != "success")
        {
            throw new InvalidOperationException(
                $"Prometheus rejected `{promql}`: {root.GetProperty("errorType").GetString()}: {root.GetProperty("error").GetString()}");
        }

        return root.GetProperty("data").Clone();
    }

    /// <summary>The vector a query returns, as (labels, value) pairs (empty when nothing matches).</summary>
    public async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>> QueryVectorAsync(string promql, CancellationToken cancellationToken = default)
    {
        var data = await QueryAsync(promql, cancellationToken);
        var samples = new List<(IReadOnlyDictionary<string, string>, double)>();
        foreach (var sample in data.GetProperty("result").EnumerateArray())
        {
            var labels = sample.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "", StringComparer.Ordinal);
            samples.Add((labels, double.Parse(sample.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture)));
        }

        return samples;
    }

    /// <summary>The active scrape targets (/api/v1/targets) with their labels and last scrape's health.</summary>
    public async Task<IReadOnlyList<PrometheusTarget>> TargetsAsync(CancellationToken cancellationToken = default)
    {
        using var response = await _http.GetAsync(new Uri("api/v1/targets?state=active", UriKind.Relative), cancellationToken).WaitAsync(Timeout, cancellationToken);
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        return body.RootElement.GetProperty("data").GetProperty("activeTargets").EnumerateArray().Select(t => new PrometheusTarget(
            t.GetProperty("scrapePool").GetString()!,
            t.GetProperty("scrapeUrl").GetString()!,
            t.GetProperty("health").GetString()!,
            t.GetProperty("lastError").GetString() ?? "",
            t.GetProperty("labels").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "", StringComparer.Ordinal))).ToList();
    }

    /// <summary>
    /// Polls <paramref name="condition"/> every 200 ms until it holds; past <paramref name="timeout"/> (default
    /// <see cref="Timeout"/>) fails with <paramref name="what"/>, the last state <paramref name="describe"/> gives and the
    /// server's log.
    /// </summary>
    public async Task WaitUntilAsync(Func<Task<bool>> condition, string what, Func<Task<string>>? describe = null, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(condition);
        var started = DateTime.UtcNow;
        while (!await condition())
        {
            if (DateTime.UtcNow - started > (timeout ?? Timeout))
            {
                var state = describe is null ? "" : "\nlast state: " + await describe();
                throw new TimeoutException($"Prometheus: {what} did not happen within {(timeout ?? Timeout).TotalSeconds} s{state}\nPrometheus log:\n{Output}");
            }

            await Task.Delay(200);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await StopProcessAsync();
        _folder.Dispose();
    }

    private static PrometheusServer Start(string binary, string configPath, TempDirectory folder, int port)
    {
        var info = new ProcessStartInfo(binary) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[]
        {
            "--config.file=" + configPath,
            "--storage.tsdb.path=" + Path.Combine(folder.Path, "data"),
            "--web.listen-address=127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture),
        })
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {binary}");
        var output = new Queue<string>();
        void Keep(object? sender, DataReceivedEventArgs e)
        {
            if (e.Data is null)
            {
                return;
            }

            lock (output)
            {
                output.Enqueue(e.Data);
                if (output.Count > OutputLines)
                {
                    output.Dequeue();
                }
            }
        }

        process.OutputDataReceived += Keep;
        process.ErrorDataReceived += Keep;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new PrometheusServer(process, folder, output, new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/"));
    }

    private async Task WaitReadyAsync(CancellationToken cancellationToken)
    {
        var started = DateTime.UtcNow;
        while (true)
        {
            if (_process.HasExited)
            {
                // The exit is seen before the last of its output is read: wait for the readers to drain.
                await _process.WaitForExitAsync(cancellationToken).WaitAsync(Timeout, cancellationToken);
                throw new InvalidOperationException($"prometheus exited with code {_process.ExitCode} before it was ready:\n{Output}");
            }

            try
            {
                using var response = await _http.GetAsync(new Uri("-/ready", UriKind.Relative), cancellationToken).WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TimeoutException or TaskCanceledException)
            {
                // Not listening yet.
            }

            if (DateTime.UtcNow - started > Timeout)
            {
                throw new TimeoutException($"prometheus was not ready within {Timeout.TotalSeconds} s:\n{Output}");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    private async Task StopProcessAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync().WaitAsync(Timeout);
        _process.Dispose();
    }

    private static string ShortIntervals(string config)
    {
        if (!IntervalSetting().IsMatch(config))
        {
            throw new ArgumentException("the configuration sets no scrape_interval, evaluation_interval or scrape_timeout to shorten", nameof(config));
        }

        return IntervalSetting().Replace(config, m => m.Groups[1].Value + "1s");
    }

    // Matches `scrape_interval: 15s` and the like wherever they are set (global or per job); the timeout must not exceed
    // the interval, so it is shortened too.
    [GeneratedRegex(@"^(\s*(?:scrape_interval|evaluation_interval|scrape_timeout):\s*)\S+", RegexOptions.Multiline)]
    private static partial Regex IntervalSetting();
}
