namespace WrinkleFree.Providers.Cloud;

/// <summary>One zone a cloud tier may place in, with its region.</summary>
public sealed record CloudZone(string Region, string Zone);
