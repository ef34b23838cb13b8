using System.Text.Json;
using System.Text.Json.Serialization;

namespace WrinkleFree.Jobs.Checkpoints;

/// <summary>
/// The last file written into a checkpoint: its presence commits the checkpoint, and it lists every other file with its size
/// and SHA-256 so a restore can tell a complete checkpoint from a damaged one.
/// </summary>
internal sealed record CheckpointManifest
{
    /// <summary>The manifest's name inside a checkpoint folder (or object-store prefix); staging folders may not hold a file of this name.</summary>
    public const string FileName = "wf-checkpoint.json";

    public const int CurrentFormat = 1;

    public int Format { get; init; } = CurrentFormat;

    public long Step { get; init; }

    public DateTimeOffset Created { get; init; }

    public IReadOnlyList<CheckpointFileEntry> Files { get; init; } = [];

    public long TotalBytes => Files.Sum(f => f.Size);

    public byte[] ToUtf8() => JsonSerializer.SerializeToUtf8Bytes(this, ManifestJsonContext.Default.CheckpointManifest);

    /// <summary>Parses and sanity-checks a manifest; null (with the reason) when it is not one we can trust.</summary>
    public static CheckpointManifest? TryParse(ReadOnlySpan<byte> utf8, long expectedStep, out string? problem)
    {
        CheckpointManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(utf8, ManifestJsonContext.Default.CheckpointManifest);
        }
        catch (JsonException e)
        {
            problem = $"manifest is not valid JSON ({e.Message})";
            return null;
        }

        problem = manifest switch
        {
            null => "manifest is empty",
            { Format: not CurrentFormat } => $"manifest format {manifest.Format} is not the supported {CurrentFormat}",
            _ when manifest.Step != expectedStep => $"manifest says step {manifest.Step} but the checkpoint is named for step {expectedStep}",
            _ => manifest.Files.Select(f => CheckRelativePath(f.Path) ?? (f.Size < 0 || f.Sha256.Length != 64 ? $"entry '{f.Path}' has a bad size or hash" : null))
                .FirstOrDefault(p => p is not null),
        };
        return problem is null ? manifest : null;
    }

    /// <summary>Why <paramref name="path"/> may not name a file inside a checkpoint, or null when it may.</summary>
    public static string? CheckRelativePath(string path)
    {
        if (path.Length == 0 || path.StartsWith('/') || path.Contains('\\', StringComparison.Ordinal))
        {
            return $"'{path}' is not a relative path with '/' separators";
        }

        return path.Split('/').Any(part => part is "" or "." or "..") ? $"'{path}' has an empty, '.' or '..' component" : null;
    }
}

/// <summary>One file of a checkpoint: its path relative to the checkpoint (with '/'), length and lowercase hex SHA-256.</summary>
internal sealed record CheckpointFileEntry(string Path, long Size, string Sha256);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(CheckpointManifest))]
internal sealed partial class ManifestJsonContext : JsonSerializerContext;
