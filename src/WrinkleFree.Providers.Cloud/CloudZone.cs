namespace WrinkleFree.Providers.Cloud;

/// <summary>One zone a cloud tier may place in, with its region and, when the tier names one, its subnet.</summary>
public sealed record CloudZone(string Region, string Zone, string? Subnet = null);
