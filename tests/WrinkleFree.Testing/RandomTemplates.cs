using System.Text;

namespace WrinkleFree.Testing;

/// <summary>
/// Random template sources for robustness tests of the template language and the chat templates built on it: 1 to 29
/// pieces of Jinja syntax, names and literals, one in ten a random printable character. Seeded, so a failure reproduces.
/// </summary>
public static class RandomTemplates
{
    /// <summary>Syntax, operators, filters and literals both the language and the chat tests throw at the parser.</summary>
    public static IReadOnlyList<string> CommonFragments { get; } =
    [
        "{{", "}}", "{%", "%}", "{#", "#}", "{%-", "-%}", "{{-", "-}}", " if ", " for ", " in ", " endif ", " endfor ", " else ",
        " elif ", " set ", " macro ", " endmacro ", " x ", " items ", " loop ", ".", "[", "]", "(", ")", "{", "}", ",", ":",
        "|", " is ", " not ", " and ", " or ", "'s'", "\"t\"", "1", "0", "-1", "2.5", "+", "-", "*", "/", "//", "%", "~", "==",
        "<", ">=", "=", " trim ", " length ", " tojson ", " defined ", " none ", " true ", "ns", " namespace(a=1) ",
        " range(3) ", "[::-1]", "[1:]", "\n", "  ", "text", " break ", " continue ",
        " raw ", " endraw ", "\\", "'", "\"", " dictsort ", " selectattr('role') ", " map(attribute='x') ",
    ];

    /// <summary>
    /// <paramref name="count"/> sources made of <see cref="CommonFragments"/> and <paramref name="extraFragments"/> (the
    /// caller's variables and functions), each with the random source that made it, for choices the caller draws too.
    /// </summary>
    public static IEnumerable<(string Source, Random Random)> Generate(IReadOnlyList<string> extraFragments, int count = 3000, int seed = 12345)
    {
        string[] fragments = [.. CommonFragments, .. extraFragments];
        var random = new Random(seed);
        for (var iteration = 0; iteration < count; iteration++)
        {
            var sb = new StringBuilder();
            var pieces = random.Next(1, 30);
            for (var i = 0; i < pieces; i++)
            {
                sb.Append(random.Next(10) == 0 ? ((char)random.Next(32, 127)).ToString() : fragments[random.Next(fragments.Length)]);
            }

            yield return (sb.ToString(), random);
        }
    }
}
