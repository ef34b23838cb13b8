using System.Globalization;
using SharpFuzz;
using WrinkleFree.Fuzz;
using WrinkleFree.Fuzz.Targets;

// Fuzz harnesses for the parsers that read hostile bytes.
// Usage: dotnet run -c Release --project bench/WrinkleFree.Fuzz -- TARGET [--execs N] [--seed S] [--corpus DIR] [--crashes DIR]
//          in-process: the corpus, then N seeded mutations; prints executions, rejections, crashes (exit 1 on a crash)
//        ... -- TARGET --afl          one input from afl-fuzz per run through SharpFuzz (bench/fuzz.sh sets this up)
//        ... -- TARGET --dict FILE     writes the target's tokens as an afl dictionary
//        ... -- write-gguf-corpus DIR  regenerates the GGUF seeds with our own writer
// TARGET: gguf | request | jinja | spec
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine($"usage: WrinkleFree.Fuzz TARGET [--execs N] [--seed S] [--corpus DIR] [--crashes DIR] | TARGET --afl | write-gguf-corpus DIR");
    Console.WriteLine($"targets: {string.Join(", ", FuzzTargets.All.Select(t => t.Name))}");
    return args.Length == 0 ? 2 : 0;
}

if (args[0] == "write-gguf-corpus")
{
    GgufSeeds.Write(args.Length > 1 ? args[1] : Corpus.DefaultDirectory("gguf"));
    return 0;
}

var target = FuzzTargets.Find(args[0]);
if (target is null)
{
    Console.Error.WriteLine($"unknown target '{args[0]}'; targets: {string.Join(", ", FuzzTargets.All.Select(t => t.Name))}");
    return 2;
}

if (args.Contains("--dict"))
{
    var path = Arg("--dict", "");
    File.WriteAllLines(path, target.Dictionary.Select((token, i) => $"t{i}=\"{AflDictionary.Escape(token)}\""));
    return 0;
}

if (args.Contains("--afl"))
{
    // Out of process: SharpFuzz restarts the child when an input kills it (stack overflow, OOM), so afl sees the crash.
    Fuzzer.OutOfProcess.Run(stream =>
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        target.Execute(buffer.ToArray());
    });
    return 0;
}

var execs = int.Parse(Arg("--execs", "10000"), CultureInfo.InvariantCulture);
var seed = int.Parse(Arg("--seed", "1"), CultureInfo.InvariantCulture);
var corpusDirectory = Arg("--corpus", Corpus.DefaultDirectory(target.Name));
var crashDirectory = Arg("--crashes", Path.Combine(Path.GetTempPath(), $"wf-fuzz-{target.Name}-{Environment.ProcessId}"));
var corpus = Corpus.Load(corpusDirectory);
var started = System.Diagnostics.Stopwatch.GetTimestamp();
var report = FuzzRunner.Run(target, corpus, execs, seed, crashDirectory);
var seconds = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
Console.WriteLine($"{report} in {seconds:F1} s ({report.Executions / Math.Max(seconds, 1e-9):F0}/s), corpus {corpus.Count} from {corpusDirectory}, seed {seed}");
foreach (var crash in report.Crashes)
{
    Console.WriteLine($"  crash: {crash}");
}

return report.Crashes.Count == 0 ? 0 : 1;

string Arg(string name, string fallback)
{
    var i = Array.IndexOf(args, name);
    if (i < 0)
    {
        return fallback;
    }

    if (i + 1 >= args.Length)
    {
        throw new ArgumentException($"{name} needs a value");
    }

    return args[i + 1];
}
