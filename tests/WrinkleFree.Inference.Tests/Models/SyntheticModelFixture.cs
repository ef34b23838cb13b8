using WrinkleFree.Inference.Gguf;
using WrinkleFree.Inference.Models;

namespace WrinkleFree.Inference.Tests.Models;

/// <summary>The tiny synthetic model written once per test run in each ternary type (same seed, same weights).</summary>
public sealed class SyntheticModelFixture : IDisposable
{
    public const int Seed = 7;

    private readonly Dictionary<GgmlType, string> _paths = [];

    public string Path(GgmlType type)
    {
        lock (_paths)
        {
            if (!_paths.TryGetValue(type, out var path))
            {
                path = TestPaths.TempFile();
                SyntheticModel.Write(path, SyntheticShape.Tiny, type, Seed);
                _paths[type] = path;
            }

            return path;
        }
    }

    public void Dispose()
    {
        foreach (var p in _paths.Values)
        {
            File.Delete(p);
        }
    }
}

[CollectionDefinition(Name)]
public sealed class SyntheticModelCollection : ICollectionFixture<SyntheticModelFixture>
{
    public const string Name = "synthetic models";
}
