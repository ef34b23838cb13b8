using System.Globalization;

namespace WrinkleFree.Jobs.Checkpoints;

/// <summary>Names of checkpoint folders (<c>checkpoint-STEP</c>) in a local folder or under an object-store prefix.</summary>
internal static class CheckpointNames
{
    public const string Prefix = "checkpoint-";

    public static string Folder(long step) => Prefix + step.ToString(CultureInfo.InvariantCulture);

    /// <summary>The step of a folder named <c>checkpoint-STEP</c>, or null for any other name.</summary>
    public static long? StepOf(string folderName) =>
        folderName.StartsWith(Prefix, StringComparison.Ordinal)
        && long.TryParse(folderName.AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var step)
            ? step
            : null;

    /// <summary>Checks what SaveAsync was given and lists the staging files ('/'-separated, ordinal order).</summary>
    public static List<string> StagingFiles(long step, string stagingDirectory)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        ArgumentException.ThrowIfNullOrEmpty(stagingDirectory);
        if (!Directory.Exists(stagingDirectory))
        {
            throw new CheckpointStoreException($"staging folder '{stagingDirectory}' for the checkpoint of step {step} does not exist; write the checkpoint's files there first");
        }

        var files = DurableFiles.RelativeFiles(stagingDirectory);
        if (files.Contains(CheckpointManifest.FileName, StringComparer.Ordinal))
        {
            throw new CheckpointStoreException($"staging folder '{stagingDirectory}' holds a file named {CheckpointManifest.FileName}, which the store writes itself; rename that file");
        }

        return files;
    }
}
