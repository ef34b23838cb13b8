using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;

namespace WrinkleFree.Cli;

/// <summary>Turns the errors a user can cause (bad file, unsupported model, mlock refused) into one clear line on stderr.</summary>
internal static class CliErrors
{
    public static Model? LoadModel(string path, TextWriter error)
    {
        try
        {
            return Model.Load(path);
        }
        catch (Exception e) when (e is GgufFormatException or IOException or NotSupportedException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: cannot load model '{path}': {e.Message}");
            return null;
        }
    }

    public static bool TryLock(Model model, TextWriter error)
    {
        try
        {
            model.LockInMemory();
            return true;
        }
        catch (Exception e) when (e is InvalidOperationException or PlatformNotSupportedException)
        {
            error.WriteLine($"error: {e.Message}");
            return false;
        }
    }
}
