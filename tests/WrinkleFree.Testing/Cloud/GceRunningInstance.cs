namespace WrinkleFree.Testing.Cloud;

/// <summary>
/// What a runner started for one instance. <see cref="NetworkIp"/> becomes the instance's networkInterfaces[0].networkIP
/// (and natIP when it asked for an external address): a loopback address such as 127.0.0.5 on which the started process
/// listens at the port the tier's settings name, so the provider reaches it exactly as it would reach a VM.
/// <see cref="Process"/> is disposed when the instance is preempted, deleted, or the double stops.
/// </summary>
public sealed record GceRunningInstance(string NetworkIp, IAsyncDisposable? Process);
