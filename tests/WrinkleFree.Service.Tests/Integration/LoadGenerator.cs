using System.Collections.Concurrent;
using System.Diagnostics;

namespace WrinkleFree.Service.Tests.Integration;

/// <summary>
/// Open-loop load on a service endpoint: non-streaming GET /v1/models at a rate the test changes while it runs. Sends
/// follow a credit that accrues at the current rate, so a stalled loop catches up and the average rate holds on a busy
/// machine. Every answer is counted: 200 as a success, anything else (status or exception) as a failure with its reason.
/// </summary>
internal sealed class LoadGenerator : IAsyncDisposable
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    private readonly HttpClient _http;
    private readonly Uri _url;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<string> _failures = new();
    private readonly List<Task> _sent = [];
    private readonly Task _loop;
    private double _rate;
    private int _succeeded;

    public LoadGenerator(Uri endpoint, double requestsPerSecond)
    {
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = RequestTimeout };
        _url = new Uri(endpoint, "/v1/models");
        _rate = requestsPerSecond;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Requests per second from now on.</summary>
    public double Rate
    {
        get => Volatile.Read(ref _rate);
        set => Volatile.Write(ref _rate, value);
    }

    public int Succeeded => Volatile.Read(ref _succeeded);

    public IReadOnlyCollection<string> Failures => _failures;

    /// <summary>Stops sending and waits for every request sent to get its answer.</summary>
    public async Task StopAsync()
    {
        if (!_stop.IsCancellationRequested)
            await _stop.CancelAsync();
        await _loop;
        Task[] sent;
        lock (_sent)
            sent = [.. _sent];
        await Task.WhenAll(sent).WaitAsync(RequestTimeout + TimeSpan.FromSeconds(5));
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            _http.Dispose();
            _stop.Dispose();
        }
    }

    private async Task RunAsync()
    {
        var credit = 0.0;
        var last = Stopwatch.GetTimestamp();
        while (!_stop.IsCancellationRequested)
        {
            var now = Stopwatch.GetTimestamp();
            credit += Rate * Stopwatch.GetElapsedTime(last, now).TotalSeconds;
            last = now;
            for (; credit >= 1; credit--)
            {
                var task = SendAsync();
                lock (_sent)
                    _sent.Add(task);
            }
            try
            {
                // Pacing of the sender, not a wait for a condition: 10 ms is the schedule's resolution.
                await Task.Delay(10, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task SendAsync()
    {
        try
        {
            using var response = await _http.GetAsync(_url);
            var body = await response.Content.ReadAsStringAsync();
            if ((int)response.StatusCode == 200)
                Interlocked.Increment(ref _succeeded);
            else
                _failures.Enqueue($"{(int)response.StatusCode}: {body}");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            _failures.Enqueue($"{e.GetType().Name}: {e.Message}");
        }
    }
}
