using System.Runtime.CompilerServices;
using WrinkleFree.Replica.Backends;
using WrinkleFree.Replica.Chat;

namespace WrinkleFree.Replica.Api;

/// <summary>
/// Turns a backend's text events into content and tool-call events with a <see cref="ToolCallStream"/>: each event keeps
/// its tokens, logprobs and counts, carries the text that is now certain content, and the calls it completed. A choice
/// that called tools and stopped by itself finishes with "tool_calls", as OpenAI's does.
/// </summary>
internal static class ToolCallEvents
{
    public static async IAsyncEnumerable<GenerationEvent> ReadAsync(
        IAsyncEnumerable<GenerationEvent> events, Func<ToolCallStream> createStream, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ToolCallStream? stream = null;
        var calls = new List<ToolCallDelta>();
        await foreach (var e in events.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            // Created after the backend's first event, so its up-front errors (context too long, queue full) come first.
            stream ??= createStream();
            var text = e.Text.Length > 0 ? stream.Push(e.Text, calls) : "";
            if (e.FinishReason is not null)
            {
                text += stream.Finish(calls);
            }

            yield return e with
            {
                Text = text,
                ToolCalls = calls.Count > 0 ? calls.ToArray() : null,
                FinishReason = e.FinishReason == "stop" && stream.CallCount > 0 ? "tool_calls" : e.FinishReason,
            };
            calls.Clear();
        }
    }
}
