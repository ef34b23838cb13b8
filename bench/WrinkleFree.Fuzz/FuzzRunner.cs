using System.Diagnostics;
using WrinkleFree.Fuzz.Targets;

namespace WrinkleFree.Fuzz;

/// <summary>
/// The in-process mode: runs a target over its corpus, then over seeded mutations, catching every crash; the first input
/// of each distinct crash (exception type + throwing frame) is saved under the crash folder.
/// </summary>
internal static class FuzzRunner
{
    public static FuzzReport Run(FuzzTarget target, IReadOnlyList<byte[]> corpus, int mutations, int seed, string crashDirectory)
    {
        var crashes = new Dictionary<string, FuzzCrash>(StringComparer.Ordinal);
        int executions = 0, accepted = 0, rejected = 0, crashing = 0;

        void One(byte[] input)
        {
            executions++;
            try
            {
                if (target.Execute(input))
                {
                    accepted++;
                }
                else
                {
                    rejected++;
                }
            }
            catch (Exception e)
            {
                crashing++;
                var signature = Signature(e);
                if (crashes.TryGetValue(signature, out var known))
                {
                    crashes[signature] = known with { Count = known.Count + 1 };
                    return;
                }

                Directory.CreateDirectory(crashDirectory);
                var path = Path.Combine(crashDirectory, $"{target.Name}-crash-{crashes.Count}.bin");
                File.WriteAllBytes(path, input);
                File.WriteAllText(path + ".txt", e.ToString());
                crashes[signature] = new FuzzCrash(signature, FirstLine(e.Message), path, 1);
            }
        }

        foreach (var input in corpus)
        {
            One(input);
        }

        var mutator = new Mutator(corpus, target.Dictionary, target.MaxInputBytes, seed);
        for (var i = 0; i < mutations; i++)
        {
            One(mutator.Next());
        }

        return new FuzzReport(target.Name, executions, accepted, rejected, crashing, [.. crashes.Values]);
    }

    /// <summary>Exception type and the first frame of our code that threw (or the top frame): one bug, one signature.</summary>
    public static string Signature(Exception e)
    {
        var inner = e;
        while (inner.InnerException is not null && inner.GetType().Name == "JinjaException")
        {
            inner = inner.InnerException;
        }

        var frames = new StackTrace(inner, fNeedFileInfo: false).GetFrames();
        var frame = frames.FirstOrDefault(f => f.GetMethod()?.DeclaringType?.Namespace?.StartsWith("WrinkleFree", StringComparison.Ordinal) == true)
            ?? frames.FirstOrDefault();
        var method = frame?.GetMethod();
        return $"{inner.GetType().Name} at {method?.DeclaringType?.FullName}.{method?.Name}";
    }

    private static string FirstLine(string text)
    {
        var cut = text.IndexOf('\n', StringComparison.Ordinal);
        return cut < 0 ? text : text[..cut];
    }
}
