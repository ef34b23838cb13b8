using System.Text;
using System.Text.Json;

namespace WrinkleFree.Replica.Chat;

/// <summary>
/// Reads a model's output, piece by piece, as content plus tool calls in the model's <see cref="ToolCallSyntax"/>. Text
/// that may still turn out to be the start of a call is held back until decided, so streamed and non-streamed answers
/// agree (the non-streamed one pushes the whole text once). A block that is not a well-formed call to a declared tool
/// stays content, as the model wrote it; whitespace between content and a call is dropped.
/// </summary>
public sealed partial class ToolCallStream
{
    private const string HermesOpen = "<tool_call>";
    private const string HermesClose = "</tool_call>";
    private const string PythonTag = "<|python_tag|>";

    private readonly ToolCallSyntax _syntax;
    private readonly Dictionary<string, ChatTool> _callable;
    private readonly bool _parallel;
    private readonly Func<string> _newId;
    private readonly StringBuilder _pending = new();
    private bool _inCall;
    private bool _afterCall;

    // Llama3Json: null until the first non-blank text says whether the whole answer is a call.
    private bool? _llamaCall;

    public ToolCallStream(ToolCallSyntax syntax, ChatToolOptions options, Func<string>? newId = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _syntax = syntax;
        _callable = options.Callable.ToDictionary(t => t.Name, StringComparer.Ordinal);
        _parallel = options.AllowsParallel;
        _newId = newId ?? NewCallId;
        // Only a constrained call is sure to be well-formed, so only then may its arguments go out before it closes.
        _streamArguments = syntax == ToolCallSyntax.Hermes && options.Choice is ToolChoiceMode.Required or ToolChoiceMode.Function;
    }

    /// <summary>Calls emitted so far.</summary>
    public int CallCount { get; private set; }

    /// <summary>An OpenAI-style call id: "call_" and 24 random letters and digits.</summary>
    public static string NewCallId() => "call_" + Guid.NewGuid().ToString("N")[..24];

    /// <summary>Adds output text; returns the content that is now certain, and adds any completed calls to <paramref name="calls"/>.</summary>
    public string Push(string text, List<ToolCallDelta> calls)
    {
        ArgumentNullException.ThrowIfNull(text);
        _pending.Append(text);
        return _syntax == ToolCallSyntax.Hermes ? HermesStep(calls, final: false) : LlamaStep(calls, final: false);
    }

    /// <summary>The output ended: releases what was held back, as a call when it is a complete one, else as content.</summary>
    public string Finish(List<ToolCallDelta> calls) =>
        _syntax == ToolCallSyntax.Hermes ? HermesStep(calls, final: true) : LlamaStep(calls, final: true);

    private string HermesStep(List<ToolCallDelta> calls, bool final)
    {
        var released = new StringBuilder();
        while (true)
        {
            var pending = _pending.ToString();
            if (_inCall)
            {
                var close = pending.IndexOf(HermesClose, StringComparison.Ordinal);
                if (close < 0 && !final)
                {
                    if (_streamArguments)
                    {
                        StreamPartialCall(pending, calls);
                    }

                    return released.ToString();
                }

                // An unclosed block at the end still counts when its JSON is complete (a stop string may have cut the tag).
                var body = close < 0 ? pending : pending[..close];
                var rest = close < 0 ? "" : pending[(close + HermesClose.Length)..];
                _inCall = false;
                _pending.Clear().Append(rest);
                if (_partial is not null)
                {
                    FinishPartialCall(body, calls);
                    _afterCall = true;
                }
                else if (TryCall(body, calls))
                {
                    _afterCall = true;
                }
                else
                {
                    released.Append(HermesOpen).Append(body).Append(close < 0 ? "" : HermesClose);
                    _afterCall = false;
                }

                if (close < 0)
                {
                    return released.ToString();
                }

                continue;
            }

            if (_afterCall)
            {
                // Blank text after a call is the gap before the next one (or the end), not content.
                var trimmed = pending.TrimStart();
                _pending.Clear().Append(trimmed);
                pending = trimmed;
                if (pending.Length == 0)
                {
                    return released.ToString();
                }
            }

            var open = pending.IndexOf(HermesOpen, StringComparison.Ordinal);
            if (open >= 0 && (_parallel || CallCount == 0))
            {
                released.Append(pending.AsSpan(0, open).TrimEnd());
                _pending.Clear().Append(pending, open + HermesOpen.Length, pending.Length - open - HermesOpen.Length);
                _inCall = true;
                continue;
            }

            if (final)
            {
                _pending.Clear();
                released.Append(CallCount > 0 ? pending.TrimEnd() : pending);
                return released.ToString();
            }

            // Hold back a suffix that could begin the open tag, and the blank run before it (dropped if a call follows).
            var keep = open >= 0 ? 0 : PartialSuffix(pending, HermesOpen);
            var certain = pending.AsSpan(0, pending.Length - keep);
            var blank = certain.Length - certain.TrimEnd().Length;
            var cut = certain.Length - blank;
            if (cut > 0)
            {
                released.Append(pending, 0, cut);
                _pending.Remove(0, cut);
                _afterCall = false;
            }

            return released.ToString();
        }
    }

    private string LlamaStep(List<ToolCallDelta> calls, bool final)
    {
        var pending = _pending.ToString();
        if (_llamaCall is null)
        {
            var start = pending.TrimStart();
            if (start.Length == 0 && !final)
            {
                return "";
            }

            if (start.StartsWith('{') || start.StartsWith(PythonTag, StringComparison.Ordinal))
            {
                _llamaCall = true;
            }
            else if (!final && start.Length < PythonTag.Length && PythonTag.StartsWith(start, StringComparison.Ordinal))
            {
                return "";
            }
            else
            {
                _llamaCall = false;
            }
        }

        if (_llamaCall == false)
        {
            _pending.Clear();
            return pending;
        }

        if (!final)
        {
            return "";
        }

        _pending.Clear();
        var text = pending.TrimStart();
        if (text.StartsWith(PythonTag, StringComparison.Ordinal))
        {
            text = text[PythonTag.Length..];
        }

        // Llama 3.x may write several calls separated by ';'; all of them must be calls, or the answer is content.
        var found = new List<(string Name, string Arguments)>();
        foreach (var part in SplitTopLevel(text, ';'))
        {
            if (part.Trim().Length == 0)
            {
                continue;
            }

            if (ReadCall(part) is not { } call || (!_parallel && found.Count > 0))
            {
                return pending;
            }

            found.Add(call);
        }

        if (found.Count == 0)
        {
            return pending;
        }

        foreach (var (name, arguments) in found)
        {
            Emit(name, arguments, calls);
        }

        return "";
    }

    private bool TryCall(string body, List<ToolCallDelta> calls)
    {
        if (ReadCall(body) is not { } call)
        {
            return false;
        }

        Emit(call.Name, call.Arguments, calls);
        return true;
    }

    private void Emit(string name, string arguments, List<ToolCallDelta> calls)
    {
        var index = CallCount++;
        calls.Add(new ToolCallDelta(index, _newId(), name, ""));
        calls.Add(new ToolCallDelta(index, null, null, arguments));
    }

    /// <summary>{"name": a declared tool, "arguments" or "parameters": an object (or a string holding one)}, else null.</summary>
    private (string Name, string Arguments)? ReadCall(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json.Trim());
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String
                || !_callable.TryGetValue(name.GetString()!, out var tool))
            {
                return null;
            }

            if (!root.TryGetProperty("arguments", out var arguments) && !root.TryGetProperty("parameters", out arguments))
            {
                return Strict(tool, "{}");
            }

            return arguments.ValueKind switch
            {
                JsonValueKind.Object => Strict(tool, arguments.GetRawText()),
                JsonValueKind.String when IsJsonObject(arguments.GetString()!) => Strict(tool, arguments.GetString()!),
                _ => null,
            };
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // A strict tool's call is one whose arguments its schema accepts; anything else is text the model wrote.
    private static (string Name, string Arguments)? Strict(ChatTool tool, string arguments) =>
        tool.StrictArguments is { } grammar && !grammar.Accepts(arguments) ? null : (tool.Name, arguments);

    private static bool IsJsonObject(string text)
    {
        try
        {
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>Length of the longest suffix of <paramref name="text"/> that is a proper prefix of <paramref name="tag"/>.</summary>
    private static int PartialSuffix(string text, string tag)
    {
        for (var n = Math.Min(tag.Length - 1, text.Length); n > 0; n--)
        {
            if (text.AsSpan(text.Length - n).SequenceEqual(tag.AsSpan(0, n)))
            {
                return n;
            }
        }

        return 0;
    }

    /// <summary>Splits on <paramref name="separator"/> outside JSON strings and brackets.</summary>
    private static List<string> SplitTopLevel(string text, char separator)
    {
        var parts = new List<string>();
        int depth = 0, start = 0;
        var inString = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (inString)
            {
                if (c == '\\')
                {
                    i++;
                }
                else if (c == '"')
                {
                    inString = false;
                }
            }
            else if (c == '"')
            {
                inString = true;
            }
            else if (c is '{' or '[')
            {
                depth++;
            }
            else if (c is '}' or ']')
            {
                depth--;
            }
            else if (c == separator && depth == 0)
            {
                parts.Add(text[start..i]);
                start = i + 1;
            }
        }

        parts.Add(text[start..]);
        return parts;
    }
}
