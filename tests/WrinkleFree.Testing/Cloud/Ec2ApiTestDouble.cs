using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace WrinkleFree.Testing.Cloud;

/// <summary>
/// An EC2 API TEST DOUBLE: a Kestrel server on a random loopback port speaking EC2's Query protocol (form-encoded POST
/// <c>Action=...</c>, XML answers in the EC2 namespace, <c>&lt;Response&gt;&lt;Errors&gt;</c> with HTTP 400) for exactly
/// the calls the cloud provider makes: RunInstances, DescribeInstances, TerminateInstances. It is not a cloud: instances
/// get 127.0.0.N as their private IP and, when the test sets <see cref="Runner"/>, "boot" as whatever local process the
/// runner starts from their user-data. Test hooks make a zone run out of capacity (or quota) and preempt an instance the
/// way EC2 reclaims spot capacity (terminated, state reason Server.SpotInstanceTermination).
/// </summary>
public sealed partial class Ec2ApiTestDouble : IAsyncDisposable
{
    /// <summary>The XML namespace of EC2's answers (API version 2016-11-15, still the current one).</summary>
    public const string Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/";

    private readonly object _gate = new();
    private readonly WebApplication _app;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, Instance> _instances = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Code, string Message)> _zoneFailures = new(StringComparer.Ordinal);
    private readonly List<IReadOnlyDictionary<string, string>> _requests = [];
    private int _nextAddress = 2;
    private int _nextId;

    private Ec2ApiTestDouble(WebApplication app, TimeProvider time)
    {
        _app = app;
        _time = time;
    }

    /// <summary>The API's URL (http://127.0.0.1:PORT/), the SDK's ServiceURL.</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>Starts the local process an instance runs, when it boots; disposed when the instance terminates. Null: nothing runs.</summary>
    public Func<Ec2InstanceStart, IAsyncDisposable>? Runner { get; set; }

    /// <summary>Every request's form fields (Action first among them), in order.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, string>> Requests
    {
        get
        {
            lock (_gate)
                return [.. _requests];
        }
    }

    /// <summary>The RunInstances requests served, in order.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, string>> RunRequests => [.. Requests.Where(r => r.GetValueOrDefault("Action") == "RunInstances")];

    /// <summary>Every instance, running or not, in launch order.</summary>
    public IReadOnlyList<Ec2InstanceView> Instances
    {
        get
        {
            lock (_gate)
                return [.. _instances.Values.OrderBy(i => i.Sequence).Select(i => i.View())];
        }
    }

    /// <summary>Starts the double on 127.0.0.1 with a random port.</summary>
    public static async Task<Ec2ApiTestDouble> StartAsync(TimeProvider? time = null)
    {
        Ec2ApiTestDouble? api = null;
        var (_, url) = await LoopbackHost.StartAsync(app => (api = new Ec2ApiTestDouble(app, time ?? TimeProvider.System)).HandleAsync);
        api!.Url = url;
        return api;
    }

    /// <summary>Makes every RunInstances in <paramref name="zone"/> fail with EC2 error <paramref name="code"/> until <see cref="ClearFailure"/>.</summary>
    public void FailLaunches(string zone, string code = "InsufficientInstanceCapacity", string? message = null)
    {
        lock (_gate)
            _zoneFailures[zone] = (code, message ?? $"We currently do not have sufficient capacity in the Availability Zone you requested ({zone}).");
    }

    public void ClearFailure(string zone)
    {
        lock (_gate)
            _zoneFailures.Remove(zone);
    }

    /// <summary>Reclaims a spot instance as EC2 does: its process is stopped and it is terminated with Server.SpotInstanceTermination.</summary>
    public Task PreemptAsync(string instanceId) =>
        EndAsync(instanceId, "Server.SpotInstanceTermination", "Server.SpotInstanceTermination: Spot instance termination");

    public async ValueTask DisposeAsync()
    {
        List<IAsyncDisposable> running;
        lock (_gate)
        {
            running = [.. _instances.Values.Select(i => i.Process).OfType<IAsyncDisposable>()];
            foreach (var instance in _instances.Values)
                instance.Process = null;
        }

        foreach (var process in running)
            await process.DisposeAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task EndAsync(string instanceId, string reasonCode, string reasonMessage)
    {
        IAsyncDisposable? process;
        lock (_gate)
        {
            if (!_instances.TryGetValue(instanceId, out var instance))
                throw new InvalidOperationException($"no instance {instanceId}");
            if (instance.State == "terminated")
                return;
            instance.State = "terminated";
            instance.ReasonCode = reasonCode;
            instance.ReasonMessage = reasonMessage;
            process = instance.Process;
            instance.Process = null;
        }

        if (process is not null)
            await process.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext http)
    {
        if (!HttpMethods.IsPost(http.Request.Method) || !http.Request.HasFormContentType)
        {
            await ErrorAsync(http, "InvalidAction", "the EC2 Query API takes form-encoded POSTs");
            return;
        }

        var form = await http.Request.ReadFormAsync(http.RequestAborted);
        var fields = form.ToDictionary(f => f.Key, f => f.Value.ToString(), StringComparer.Ordinal);
        lock (_gate)
            _requests.Add(fields);
        try
        {
            var answer = fields.GetValueOrDefault("Action") switch
            {
                "RunInstances" => await RunInstancesAsync(fields),
                "DescribeInstances" => DescribeInstances(fields),
                "TerminateInstances" => await TerminateInstancesAsync(fields),
                var other => throw new Ec2Error("InvalidAction", $"The action {other ?? "(none)"} is not valid for this web service."),
            };
            http.Response.ContentType = "text/xml;charset=UTF-8";
            await http.Response.WriteAsync(answer.ToString(System.Xml.Linq.SaveOptions.DisableFormatting), http.RequestAborted);
        }
        catch (Ec2Error e)
        {
            await ErrorAsync(http, e.Code, e.Message);
        }
    }

    private static async Task ErrorAsync(HttpContext http, string code, string message)
    {
        http.Response.StatusCode = StatusCodes.Status400BadRequest;
        http.Response.ContentType = "text/xml;charset=UTF-8";
        var requestId = Guid.NewGuid().ToString();
        await http.Response.WriteAsync(
            $"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{Escape(code)}</Code><Message>{Escape(message)}</Message></Error></Errors><RequestID>{requestId}</RequestID></Response>");
    }

    private static string Escape(string text) => System.Security.SecurityElement.Escape(text) ?? "";

    private string NextInstanceId() => "i-0" + Interlocked.Increment(ref _nextId).ToString("x16", CultureInfo.InvariantCulture);

    private sealed class Ec2Error(string code, string message) : Exception(message)
    {
        public string Code { get; } = code;
    }
}
