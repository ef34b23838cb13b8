using System.Text;

namespace WrinkleFree.Testing.Hostile;

/// <summary>Request bodies that are wrong as JSON in every shape a client or an attacker sends: none of them is a request.</summary>
public static class HostileBodies
{
    /// <summary>Malformed or non-object JSON, named; each must get a 4xx (400 or 413), never a 5xx.</summary>
    public static IReadOnlyList<(string Name, byte[] Body)> MalformedJson(string valid)
    {
        var list = new List<(string, byte[])>
        {
            ("empty", []),
            ("whitespace", "  \r\n\t "u8.ToArray()),
            ("null", "null"u8.ToArray()),
            ("number", "42"u8.ToArray()),
            ("string", "\"prompt\""u8.ToArray()),
            ("array", "[{\"prompt\": \"hi\"}]"u8.ToArray()),
            ("true", "true"u8.ToArray()),
            ("trailing garbage", Encoding.UTF8.GetBytes(valid + "}garbage")),
            ("two objects", Encoding.UTF8.GetBytes(valid + valid)),
            ("single quotes", Encoding.UTF8.GetBytes(valid.Replace('"', '\''))),
            ("comment", Encoding.UTF8.GetBytes("/* hi */" + valid)),
            ("trailing comma", Encoding.UTF8.GetBytes(valid[..^1] + ",}")),
            ("NaN literal", "{\"prompt\": \"hi\", \"temperature\": NaN}"u8.ToArray()),
            ("Infinity literal", "{\"prompt\": \"hi\", \"temperature\": Infinity}"u8.ToArray()),
            ("huge number", Encoding.UTF8.GetBytes("{\"prompt\": \"hi\", \"max_tokens\": 1" + new string('0', 400) + "}")),
            ("huge exponent", "{\"prompt\": \"hi\", \"temperature\": 1e999999}"u8.ToArray()),
            ("unquoted key", "{prompt: \"hi\"}"u8.ToArray()),
            ("control char in string", "{\"prompt\": \"a\u0001b\"}"u8.ToArray()),
            ("bad escape", "{\"prompt\": \"\\x41\"}"u8.ToArray()),
            ("nul bytes", [0, 0, 0, 0]),
            ("utf-16 body", Encoding.Unicode.GetBytes(valid)),
            ("utf-8 bom", [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("{\"prompt\": ")]),
            ("deep arrays 100k", Encoding.ASCII.GetBytes(new string('[', 100_000) + new string(']', 100_000))),
            ("deep objects 100k", Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("{\"a\":", 100_000)) + "1" + new string('}', 100_000))),
            ("deep field 100", Encoding.ASCII.GetBytes("{\"prompt\": " + new string('[', 100) + new string(']', 100) + "}")),
            ("unterminated deep", Encoding.ASCII.GetBytes(new string('[', 50_000))),
        };

        // Every prefix cut of a valid body is truncated JSON.
        for (var cut = 1; cut < valid.Length; cut += Math.Max(1, valid.Length / 12))
        {
            list.Add(($"truncated at {cut}", Encoding.UTF8.GetBytes(valid[..cut])));
        }

        return list;
    }

    /// <summary>Values of every JSON kind, for the wrong-type sweep over each field.</summary>
    public static IReadOnlyList<(string Kind, string Json)> EveryKind { get; } =
    [
        ("string", "\"x\""),
        ("empty string", "\"\""),
        ("integer", "3"),
        ("negative", "-1"),
        ("fraction", "0.5"),
        ("huge", "1e308"),
        ("true", "true"),
        ("false", "false"),
        ("array", "[]"),
        ("array of object", "[{}]"),
        ("array of numbers", "[1, 2]"),
        ("object", "{}"),
        ("object with field", "{\"a\": 1}"),
    ];
}
