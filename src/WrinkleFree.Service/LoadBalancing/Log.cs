using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace WrinkleFree.Service.LoadBalancing;

/// <summary>The load balancer's log messages (event ids 4100-4199).</summary>
internal static partial class Log
{
    [LoggerMessage(4100, LogLevel.Information, "Load balancer listening on {Url} with policy {Policy}")]
    public static partial void Started(ILogger logger, Uri url, string policy);

    [LoggerMessage(4101, LogLevel.Information, "Replicas updated: {Listed} listed, {Routable} taking requests")]
    public static partial void ReplicasUpdated(ILogger logger, int listed, int routable);

    [LoggerMessage(4102, LogLevel.Warning, "Attempt {Attempt} on replica {Replica} failed ({Error}); it gets no new requests for {Cooldown} (request {RequestId})")]
    public static partial void ReplicaSuspended(ILogger logger, int attempt, string replica, ForwarderError error, TimeSpan cooldown, string requestId, Exception? exception);

    [LoggerMessage(4103, LogLevel.Warning, "Attempt {Attempt} on replica {Replica} failed ({Error}) (request {RequestId})")]
    public static partial void AttemptFailed(ILogger logger, int attempt, string replica, ForwarderError error, string requestId, Exception? exception);

    [LoggerMessage(4104, LogLevel.Warning, "No ready replica for {Path}; answered 503 (request {RequestId})")]
    public static partial void NoReadyReplica(ILogger logger, string path, string requestId);

    [LoggerMessage(4105, LogLevel.Warning, "No replica became ready within {Wait} while scaling up from zero; answered 503 (request {RequestId})")]
    public static partial void ScaleFromZeroTimedOut(ILogger logger, TimeSpan wait, string requestId);

    [LoggerMessage(4106, LogLevel.Error, "The request callback failed; the request proceeds")]
    public static partial void RequestCallbackFailed(ILogger logger, Exception exception);

    [LoggerMessage(4107, LogLevel.Debug, "Client went away during attempt {Attempt} on replica {Replica} ({Error}) (request {RequestId})")]
    public static partial void ClientGone(ILogger logger, int attempt, string replica, ForwarderError error, string requestId);

    [LoggerMessage(4108, LogLevel.Information, "Load-balancing policy is now {Policy}")]
    public static partial void PolicyChanged(ILogger logger, string policy);

    [LoggerMessage(4121, LogLevel.Warning, "Attempt {Attempt} on replica {Replica} was refused: the replica is draining; it gets no new requests and the request is retried elsewhere (request {RequestId})")]
    public static partial void ReplicaDraining(ILogger logger, int attempt, string replica, string requestId);

    [LoggerMessage(4120, LogLevel.Warning, "Attempt {Attempt} on replica {Replica} ended unanswered: the replica is lost; retrying elsewhere (request {RequestId})")]
    public static partial void ReplicaLost(ILogger logger, int attempt, string replica, string requestId);
}
