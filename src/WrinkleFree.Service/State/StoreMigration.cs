namespace WrinkleFree.Service.State;

/// <summary>One step of the state database's schema: applied once, in order, inside the opening transaction.</summary>
internal sealed record StoreMigration(int Version, string Description, string Sql);
