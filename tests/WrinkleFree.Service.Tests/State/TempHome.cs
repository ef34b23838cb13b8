namespace WrinkleFree.Service.Tests.State;

/// <summary>A fresh WF home folder under the temp directory, removed (best effort) on dispose.</summary>
internal sealed class TempHome : IDisposable
{
    public TempHome()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "wf-serve-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string StatePath => System.IO.Path.Combine(Path, "state.db");

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A process that outlived its test may still hold a log file open; the temp folder is disposable anyway.
        }
    }
}
