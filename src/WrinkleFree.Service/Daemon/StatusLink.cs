namespace WrinkleFree.Service.Daemon;

/// <summary>The answer to POST /status/link: a URL, good once and for a few minutes, that opens the status page.</summary>
public sealed record StatusLink(string Url);
