using System.Net.Sockets;
using System.Text.Json.Serialization;
using WrinkleFree.Service.LoadBalancing;

namespace WrinkleFree.Service.Endpoint;

/// <summary>Where an endpoint process keeps its files under the WrinkleFree home (all owner-only: the home is 0700).</summary>
public static class EndpointPaths
{
    // sun_path holds 108 bytes with its terminating NUL.
    private const int MaxSocketPath = 107;

    public static string Folder(string home) => Path.Combine(home, "run", "endpoints");

    /// <summary>The balancer options the process starts with, written by the controller before it starts the process.</summary>
    public static string Options(string home, string service) => Path.Combine(Folder(home), service + ".options.json");

    /// <summary>Written by the process once it serves: pid, start time, boot, port, control socket.</summary>
    public static string Identity(string home, string service) => Path.Combine(Folder(home), service + ".json");

    /// <summary>The control socket: a Unix socket in the private home, so only this user can drive the endpoint.</summary>
    public static string Socket(string home, string service)
    {
        var path = Path.Combine(Folder(home), service + ".sock");
        if (System.Text.Encoding.UTF8.GetByteCount(path) > MaxSocketPath)
        {
            throw new IOException(
                $"the endpoint control socket path '{path}' is longer than the {MaxSocketPath} bytes a Unix socket allows; set WF_HOME to a shorter folder");
        }
        return path;
    }

    public static string Log(string home, string service) => Path.Combine(home, "logs", "endpoint-" + service + ".log");

    /// <summary>An HTTP handler that reaches the control socket.</summary>
    public static SocketsHttpHandler Handler(string socketPath) => new()
    {
        UseProxy = false,
        ConnectCallback = async (_, cancellationToken) =>
        {
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try
            {
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        },
    };
}

/// <summary>What the endpoint process says of itself in its identity file and on GET /control/health.</summary>
public sealed record EndpointIdentity
{
    public required string Service { get; init; }

    public required int Pid { get; init; }

    public long? StartTime { get; init; }

    public string? BootId { get; init; }

    /// <summary>The endpoint's base URL as the balancer bound it.</summary>
    public required string BaseUrl { get; init; }

    /// <summary>The sequence number of the latest request arrival (so a new controller starts counting from here).</summary>
    public long ArrivalSeq { get; init; }

    public string Policy { get; init; } = "";
}

/// <summary>The options file: the balancer options and whether another port may replace a taken one.</summary>
internal sealed record EndpointStartOptions
{
    public required ServiceLoadBalancerOptions Balancer { get; init; }

    public bool AllowOtherPort { get; init; }

    /// <summary>The API keys in force from the first request (hashes only; the file is owner-only in the private home).</summary>
    public Security.EndpointAuth? Auth { get; init; }
}

/// <summary>PUT /control/state: everything the controller decides for the endpoint, sent whole each time.</summary>
internal sealed record EndpointState
{
    public List<ReplicaEndpoint> Replicas { get; init; } = [];

    public bool ScalingUp { get; init; }

    public bool ColdStart { get; init; }

    /// <summary>The latest arrival the controller had counted when it decided <see cref="ScalingUp"/>: arrivals after it
    /// are cold-start requests it has not seen, which keep the endpoint waiting for a replica.</summary>
    public long SeenArrival { get; init; }

    public ServiceLoadBalancerOptions? Options { get; init; }

    public ServiceState? Metrics { get; init; }
}

/// <summary>GET /control/stats?after=N: request arrivals after sequence N, and what is in flight.</summary>
internal sealed record EndpointStats
{
    public long Seq { get; init; }

    /// <summary>Arrival times (Unix milliseconds) of the requests after the asked sequence, oldest first.</summary>
    public List<long> Arrivals { get; init; } = [];

    public Dictionary<string, int> InFlight { get; init; } = [];
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = false)]
[JsonSerializable(typeof(EndpointIdentity))]
[JsonSerializable(typeof(EndpointStartOptions))]
[JsonSerializable(typeof(EndpointState))]
[JsonSerializable(typeof(EndpointStats))]
[JsonSerializable(typeof(Security.EndpointAuth))]
internal sealed partial class EndpointJsonContext : JsonSerializerContext
{
}
