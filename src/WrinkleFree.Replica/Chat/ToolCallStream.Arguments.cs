using System.Text.RegularExpressions;

namespace WrinkleFree.Replica.Chat;

/// <summary>
/// Streaming a forced call's arguments as they are generated: once the block's head (<c>{"name": "...",
/// "arguments": </c>) names a callable tool, its id and name go out, then each new run of argument text, until the
/// arguments object closes. The constraint guarantees the block is well-formed, so nothing sent is ever taken back.
/// </summary>
public sealed partial class ToolCallStream
{
    private readonly bool _streamArguments;
    private PartialCall? _partial;

    [GeneratedRegex("""^\s*\{\s*"name"\s*:\s*"([a-zA-Z0-9_-]{1,64})"\s*,\s*"(?:arguments|parameters)"\s*:\s*""")]
    private static partial Regex CallHead();

    /// <summary><paramref name="body"/> is the open block's text so far (after <c>&lt;tool_call&gt;</c>).</summary>
    private void StreamPartialCall(string body, List<ToolCallDelta> calls)
    {
        if (_partial is null)
        {
            var head = CallHead().Match(body);
            if (!head.Success || !_callable.ContainsKey(head.Groups[1].Value) || head.Length == body.Length)
            {
                return;
            }

            _partial = new PartialCall(CallCount++, head.Length);
            calls.Add(new ToolCallDelta(_partial.Index, _newId(), head.Groups[1].Value, ""));
        }

        EmitArguments(body, calls);
    }

    private void FinishPartialCall(string body, List<ToolCallDelta> calls)
    {
        EmitArguments(body, calls);
        _partial = null;
    }

    /// <summary>Sends the argument text scanned since the last call, stopping where the arguments object closes.</summary>
    private void EmitArguments(string body, List<ToolCallDelta> calls)
    {
        var p = _partial!;
        while (p.End < 0 && p.Scan < body.Length)
        {
            var c = body[p.Scan++];
            if (p.Escape)
            {
                p.Escape = false;
            }
            else if (p.InString)
            {
                p.Escape = c == '\\';
                p.InString = c != '"';
            }
            else if (c == '"')
            {
                p.InString = true;
            }
            else if (c is '{' or '[')
            {
                p.Depth++;
            }
            else if (c is '}' or ']' && --p.Depth == 0)
            {
                p.End = p.Scan;
            }
        }

        var upTo = p.End >= 0 ? p.End : p.Scan;
        if (upTo > p.Emitted)
        {
            calls.Add(new ToolCallDelta(p.Index, null, null, body[p.Emitted..upTo]));
            p.Emitted = upTo;
        }
    }

    private sealed class PartialCall(int index, int start)
    {
        public int Index { get; } = index;

        public int Scan { get; set; } = start;

        public int Emitted { get; set; } = start;

        public int End { get; set; } = -1;

        public int Depth { get; set; }

        public bool InString { get; set; }

        public bool Escape { get; set; }
    }
}
