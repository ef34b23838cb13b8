using System.Text;
using WrinkleFree.Server.Backends;
using WrinkleFree.Server.Chat;

namespace WrinkleFree.Server.Api;

/// <summary>
/// Turns chat messages into prompt text with the model's chat template (ChatML when the model has none).
/// </summary>
/// <remarks>
/// TEMPORARY stand-in until the Jinja interpreter (Chat/ChatTemplate) is merged: it renders ChatML for every model.
/// At merge, <see cref="ForModel"/> becomes <c>template is null ? ChatTemplate.ChatMl : ChatTemplate.Parse(template)</c>
/// and <see cref="Render"/> calls <c>template.Render(messages, addGenerationPrompt: true, bos, eos)</c>, mapping
/// <c>ChatTemplateException</c> to the 400 below.
/// </remarks>
internal sealed class ChatPromptBuilder
{
    private readonly string _bos;
    private readonly string _eos;

    private ChatPromptBuilder(string bos, string eos)
    {
        _bos = bos;
        _eos = eos;
    }

    /// <summary>Whether the model's own template is used (false while this stand-in is in place).</summary>
    public bool UsesModelTemplate => false;

    public static ChatPromptBuilder ForModel(string? template, string bos, string eos)
    {
        _ = template;
        return new ChatPromptBuilder(bos, eos);
    }

    /// <summary>The prompt text ending with the assistant header; a template error becomes a 400 naming the problem.</summary>
    public string Render(IReadOnlyList<ChatMessage> messages)
    {
        _ = (_bos, _eos);
        var sb = new StringBuilder();
        foreach (var m in messages)
        {
            sb.Append("<|im_start|>").Append(m.Role).Append('\n').Append(m.Content).Append("<|im_end|>\n");
        }

        if (sb.Length == 0)
        {
            throw new BackendException(400, "invalid_request_error", "chat template error: there are no messages to render", "messages");
        }

        return sb.Append("<|im_start|>assistant\n").ToString();
    }
}
