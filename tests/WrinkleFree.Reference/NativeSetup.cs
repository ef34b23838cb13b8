using LLama.Native;

namespace WrinkleFree.Reference;

/// <summary>Loads llama.cpp once per process with its log routed to a quiet sink (stderr when <c>WF_LLAMA_LOG=1</c>).</summary>
internal static class NativeSetup
{
    private static readonly Lock Gate = new();

    // Held in a static so the delegate handed to native code can never be collected.
    private static readonly NativeLogConfig.LLamaLogCallback Sink = Log;
    private static readonly bool Verbose = Environment.GetEnvironmentVariable("WF_LLAMA_LOG") == "1";
    private static bool _loaded;

    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (_loaded)
            {
                return;
            }

            // The callback must be configured before the first native call; afterwards LLamaSharp refuses configuration.
            if (!NativeLibraryConfig.LLama.LibraryHasLoaded)
            {
                NativeLibraryConfig.All.WithLogCallback(Sink);
            }

            // Forces LLamaSharp to pick and load the native library and initialise the backend before any other call.
            NativeApi.llama_empty_call();
            NativeLogConfig.llama_log_set(Sink);
            _loaded = true;
        }
    }

    /// <summary>Which native build LLamaSharp picked (CPU feature level) and what llama.cpp reports about the machine.</summary>
    public static string Describe()
    {
        EnsureLoaded();
        var library = NativeApi.GetLoadedNativeLibrary(NativeLibraryName.LLama)?.Metadata?.ToString() ?? "unknown library";
        var info = System.Runtime.InteropServices.Marshal.PtrToStringUTF8(NativeApi.llama_print_system_info()) ?? "";
        return $"llama.cpp {LlamaCppReference.LlamaCppCommit[..9]} via LLamaSharp 0.30.0; {library}; {info.Trim()}";
    }

    private static void Log(LLamaLogLevel level, string message)
    {
        if (Verbose)
        {
            Console.Error.Write(message);
        }
    }
}
