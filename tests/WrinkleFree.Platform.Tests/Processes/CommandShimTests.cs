using System.Diagnostics;
using WrinkleFree.Platform.Processes;

namespace WrinkleFree.Platform.Tests.Processes;

public sealed class CommandShimTests
{
    [Fact]
    public void Write_ScriptRunsTheCommandWithItsWordsQuotedAndTheCallersArguments()
    {
        var folder = Path.Combine(Path.GetTempPath(), "wf-shim-" + Guid.NewGuid().ToString("N"));
        try
        {
            // Executable (it is started directly below); printf receives the fixed words (one with a space and a quote) and then the caller's arguments.
            Assert.Equal(folder, CommandShim.Write(folder, "show", ["printf", "[%s]", "it's a word"]));
            var shim = Path.Combine(folder, "show");
            Assert.Empty(Directory.GetFiles(folder, "*.tmp-*"));

            using var process = Process.Start(new ProcessStartInfo(shim, ["x y"]) { RedirectStandardOutput = true })!;
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            Assert.Equal("[it's a word][x y]", output);

            // Rewriting replaces the script whole.
            CommandShim.Write(folder, "show", ["printf", "again"]);
            Assert.Contains("'again'", File.ReadAllText(shim), StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
