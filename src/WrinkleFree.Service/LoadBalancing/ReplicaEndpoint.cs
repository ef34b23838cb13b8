namespace WrinkleFree.Service.LoadBalancing;

/// <summary>One replica as the controller tells the load balancer about it: its id, base URL and readiness.</summary>
/// <param name="Id">The replica's stable id; in-flight counts are kept per id.</param>
/// <param name="Url">The replica's base URL (scheme, host, port); request paths are appended to it.</param>
/// <param name="Ready">Whether new requests may go to it; a not-ready replica keeps draining the requests it has.</param>
/// <param name="Lost">
/// The replica failed (its node is gone, it stopped answering): requests still waiting on it for a first byte are
/// retried on another replica instead of waiting for a connection that will never answer.
/// </param>
public sealed record ReplicaEndpoint(string Id, Uri Url, bool Ready, bool Lost = false);
