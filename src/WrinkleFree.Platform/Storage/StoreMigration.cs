namespace WrinkleFree.Platform.Storage;

/// <summary>One step of a store's schema: applied once, in order, inside the opening transaction. Never edit a shipped step.</summary>
public sealed record StoreMigration(int Version, string Description, string Sql);
