using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace WrinkleFree.Jobs.Checkpoints;

/// <summary>
/// File writes that survive a power cut: data fsynced before a rename makes it visible, and the parent folder fsynced after,
/// so the rename itself is on disk. Copies hash what they write, so no file is read twice.
/// </summary>
internal static partial class DurableFiles
{
    private const int BufferSize = 1 << 20;
    private const int ORdonly = 0;
    private const int ODirectory = 0x10000;

    /// <summary>Copies <paramref name="source"/> to <paramref name="destination"/> (a new file), fsyncs it, returns its size and SHA-256.</summary>
    public static async Task<(long Size, string Sha256)> CopyAsync(string source, string destination, CancellationToken cancellationToken)
    {
        await using var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return await WriteAsync(input, destination, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes <paramref name="input"/> to a new file, fsyncs it, returns its size and SHA-256.</summary>
    public static async Task<(long Size, string Sha256)> WriteAsync(Stream input, string destination, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
        await using var output = new FileStream(destination, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, FileOptions.Asynchronous);
        var buffer = new byte[BufferSize];
        long size = 0;
        int read;
        while ((read = await input.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            hash.AppendData(buffer, 0, read);
            await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            size += read;
        }

        output.Flush(flushToDisk: true);
        return (size, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    /// <summary>
    /// Creates <paramref name="destination"/> and lets <paramref name="write"/> fill it, hashing the bytes on their way to
    /// disk; then fsyncs it. Returns its size and SHA-256, or null when <paramref name="write"/> says there was nothing to write.
    /// </summary>
    public static async Task<(long Size, string Sha256)?> WriteAsync(string destination, Func<Stream, CancellationToken, Task<bool>> write, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
        using var sha = SHA256.Create();
        await using var output = new FileStream(destination, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, FileOptions.Asynchronous);
        bool found;
        await using (var hashing = new CryptoStream(output, sha, CryptoStreamMode.Write, leaveOpen: true))
        {
            found = await write(hashing, cancellationToken).ConfigureAwait(false);
            await hashing.FlushFinalBlockAsync(cancellationToken).ConfigureAwait(false);
        }

        output.Flush(flushToDisk: true);
        return found ? (output.Length, Convert.ToHexStringLower(sha.Hash!)) : null;
    }

    /// <summary>Writes <paramref name="bytes"/> to a new file and fsyncs it.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        using var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        output.Write(bytes);
        output.Flush(flushToDisk: true);
    }

    /// <summary>The size and SHA-256 of an existing file.</summary>
    public static async Task<(long Size, string Sha256)> HashAsync(string path, CancellationToken cancellationToken)
    {
        await using var input = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.Asynchronous | FileOptions.SequentialScan);
        var digest = await SHA256.HashDataAsync(input, cancellationToken).ConfigureAwait(false);
        return (input.Length, Convert.ToHexStringLower(digest));
    }

    /// <summary>Fsyncs a folder so that entries created, renamed or deleted in it are durable. A no-op off Linux/macOS.</summary>
    public static void SyncDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var fd = open(path, ORdonly | (OperatingSystem.IsLinux() ? ODirectory : 0));
        if (fd < 0)
        {
            throw new IOException($"cannot open folder '{path}' to fsync it (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (fsync(fd) != 0)
            {
                throw new IOException($"fsync of folder '{path}' failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = close(fd);
        }
    }

    /// <summary>Every regular file under <paramref name="root"/> as a '/'-separated relative path, in ordinal order.</summary>
    public static List<string> RelativeFiles(string root)
    {
        var files = Directory.EnumerateFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Select(f => Path.GetRelativePath(root, f).Replace(Path.DirectorySeparatorChar, '/'))
            .ToList();
        files.Sort(StringComparer.Ordinal);
        return files;
    }

    /// <summary>Deletes a folder tree if it exists; a folder that vanished meanwhile is fine.</summary>
    public static void DeleteTree(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int close(int fd);
}
