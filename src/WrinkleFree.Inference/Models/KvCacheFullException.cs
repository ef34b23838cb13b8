namespace WrinkleFree.Inference.Models;

/// <summary>No KV page is free: the caller should queue the sequence or reject it.</summary>
public sealed class KvCacheFullException(string message) : Exception(message);
