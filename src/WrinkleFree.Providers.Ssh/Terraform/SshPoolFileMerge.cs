namespace WrinkleFree.Providers.Ssh.Terraform;

/// <summary>The pool file after <see cref="SshPoolFileWriter"/> merged one pool into it, and how it was done.</summary>
public sealed record SshPoolFileMerge
{
    /// <summary>The whole new file.</summary>
    public required string Text { get; init; }

    /// <summary>True when the pool existed and was replaced; false when it was added.</summary>
    public required bool Replaced { get; init; }

    /// <summary>
    /// True when every other pool, comment and blank line was kept byte for byte (the pool's block was spliced in);
    /// false when the file had to be re-serialized, which loses comments and formatting (then <see cref="Notes"/> says so).
    /// </summary>
    public required bool KeptOtherPoolsVerbatim { get; init; }

    /// <summary>The other pools in the file, in order.</summary>
    public required IReadOnlyList<string> OtherPools { get; init; }

    /// <summary>What the user should know about the merge.</summary>
    public required IReadOnlyList<string> Notes { get; init; }

    /// <summary>False for a dry run: the file was not changed.</summary>
    public bool Written { get; init; }
}
