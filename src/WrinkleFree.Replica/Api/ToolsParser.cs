using System.Text.Json;
using System.Text.RegularExpressions;
using WrinkleFree.Replica.Chat;

namespace WrinkleFree.Replica.Api;

/// <summary>
/// Validates a chat request's <c>tools</c>, <c>tool_choice</c> and <c>parallel_tool_calls</c>, and the tool fields of its
/// messages (an assistant's <c>tool_calls</c>, a tool result's <c>tool_call_id</c>), each error naming the field.
/// The JSON elements kept are clones: the request document is disposed once parsing ends.
/// </summary>
internal static partial class ToolsParser
{
    /// <summary>Most tools one request may declare (OpenAI's own limit).</summary>
    public const int MaxTools = 128;

    [GeneratedRegex("^[a-zA-Z0-9_-]{1,64}$")]
    private static partial Regex FunctionName();

    /// <summary>The request's tool options, or null when it declares no tools (then tool_choice may only be none or auto).</summary>
    public static ChatToolOptions? Parse(JsonElement root)
    {
        var tools = Tools(root);
        var parallel = RequestParser.OptionalBool(root, "parallel_tool_calls");
        var rawChoice = RequestParser.Field(root, "tool_choice");
        var (choice, name) = Choice(rawChoice, tools);
        if (tools.Count == 0)
        {
            if (choice is ToolChoiceMode.Required or ToolChoiceMode.Function)
            {
                throw ApiErrors.BadRequest("tool_choice asks for a tool call but the request declares no tools", "tool_choice");
            }

            if (parallel is not null)
            {
                throw ApiErrors.BadRequest("parallel_tool_calls is only allowed when tools are given", "parallel_tool_calls");
            }

            return null;
        }

        return new ChatToolOptions
        {
            Tools = tools,
            Choice = choice,
            FunctionName = name,
            ParallelToolCalls = parallel,
            RawChoice = rawChoice?.Clone(),
        };
    }

    private static List<ChatTool> Tools(JsonElement root)
    {
        if (RequestParser.Field(root, "tools") is not { } tools)
        {
            return [];
        }

        if (tools.ValueKind != JsonValueKind.Array || tools.GetArrayLength() > MaxTools)
        {
            throw ApiErrors.BadRequest($"tools must be an array of at most {MaxTools} tools", "tools");
        }

        var list = new List<ChatTool>(tools.GetArrayLength());
        var names = new HashSet<string>(StringComparer.Ordinal);
        var i = 0;
        foreach (var tool in tools.EnumerateArray())
        {
            var where = $"tools[{i}]";
            if (tool.ValueKind != JsonValueKind.Object)
            {
                throw ApiErrors.BadRequest($"{where} must be an object {{\"type\":\"function\",\"function\":{{...}}}}", "tools");
            }

            var type = RequestParser.OptionalString(tool, "type", $"{where}.type");
            if (type != "function")
            {
                throw ApiErrors.BadRequest($"{where}.type must be \"function\" (the only tool type this server runs), not {(type is null ? "missing" : $"\"{type}\"")}", "tools");
            }

            if (RequestParser.Field(tool, "function") is not { ValueKind: JsonValueKind.Object } function)
            {
                throw ApiErrors.BadRequest($"{where}.function must be an object with name, description and parameters", "tools");
            }

            var name = RequestParser.OptionalString(function, "name", $"{where}.function.name");
            if (name is null || !FunctionName().IsMatch(name))
            {
                throw ApiErrors.BadRequest($"{where}.function.name must be 1 to 64 letters, digits, '_' or '-'{(name is null ? "" : $", not \"{name}\"")}", "tools");
            }

            if (!names.Add(name))
            {
                throw ApiErrors.BadRequest($"{where}.function.name \"{name}\" is declared twice; tool names must be unique", "tools");
            }

            var description = RequestParser.OptionalString(function, "description", $"{where}.function.description");
            var parameters = RequestParser.Field(function, "parameters");
            if (parameters is { ValueKind: not JsonValueKind.Object })
            {
                throw ApiErrors.BadRequest($"{where}.function.parameters must be a JSON schema object", "tools");
            }

            var strict = RequestParser.OptionalBool(function, "strict", $"{where}.function.strict") ?? false;
            foreach (var field in function.EnumerateObject())
            {
                if (field.Name is not ("name" or "description" or "parameters" or "strict") && field.Value.ValueKind != JsonValueKind.Null)
                {
                    throw ApiErrors.BadRequest($"{where}.function has an unknown field '{field.Name}'; a function reads name, description, parameters and strict", "tools");
                }
            }

            list.Add(new ChatTool(name, description, parameters?.Clone(), tool.Clone()) { CompileStrictArguments = strict ? StrictGrammar(parameters, where) : null });
            i++;
        }

        return list;
    }

    // strict: the arguments must match the schema exactly (objects closed), as OpenAI's structured outputs define it.
    private static Func<Inference.Sampling.Constraints.Grammar> StrictGrammar(JsonElement? parameters, string where)
    {
        if (parameters is not { } found)
        {
            throw ApiErrors.BadRequest($"{where}.function.strict is true but the function has no parameters schema to be strict about", "tools");
        }

        var schema = found.Clone();
        return () =>
        {
            try
            {
                return Inference.Sampling.Constraints.JsonSchemaConstraint.Compile(schema, strict: true);
            }
            catch (Inference.Sampling.Constraints.JsonSchemaException e)
            {
                throw ApiErrors.BadRequest($"{where}.function.strict: its parameters schema cannot be enforced here: {e.Message}", "tools", "unsupported_schema");
            }
        };
    }

    private static (ToolChoiceMode Mode, string? Name) Choice(JsonElement? raw, List<ChatTool> tools)
    {
        if (raw is not { } choice)
        {
            return (ToolChoiceMode.Auto, null);
        }

        if (choice.ValueKind == JsonValueKind.String)
        {
            return choice.GetString() switch
            {
                "auto" => (ToolChoiceMode.Auto, null),
                "none" => (ToolChoiceMode.None, null),
                "required" => (ToolChoiceMode.Required, null),
                var other => throw ApiErrors.BadRequest($"tool_choice \"{other}\" is not one of none, auto, required or {{\"type\":\"function\",\"function\":{{\"name\":...}}}}", "tool_choice"),
            };
        }

        if (choice.ValueKind != JsonValueKind.Object
            || RequestParser.OptionalString(choice, "type", "tool_choice.type") != "function"
            || RequestParser.Field(choice, "function") is not { ValueKind: JsonValueKind.Object } function
            || RequestParser.OptionalString(function, "name", "tool_choice.function.name") is not { } name)
        {
            throw ApiErrors.BadRequest("tool_choice must be none, auto, required or {\"type\":\"function\",\"function\":{\"name\":...}}", "tool_choice");
        }

        if (!tools.Any(t => t.Name == name))
        {
            throw ApiErrors.BadRequest($"tool_choice names the function \"{name}\", which is not among the declared tools", "tool_choice");
        }

        return (ToolChoiceMode.Function, name);
    }

    /// <summary>
    /// The tool fields of message <paramref name="m"/> at <paramref name="where"/>: tool_calls on an assistant message,
    /// tool_call_id on a tool message (required there), name on any.
    /// </summary>
    public static ChatMessage WithToolFields(ChatMessage message, JsonElement m, string where)
    {
        var name = RequestParser.OptionalString(m, "name", $"{where}.name");
        var toolCallId = RequestParser.OptionalString(m, "tool_call_id", $"{where}.tool_call_id");
        if (message.Role == "tool" && toolCallId is null)
        {
            throw ApiErrors.BadRequest($"{where}.tool_call_id is required on a tool message (the id of the call it answers)", "messages");
        }

        if (message.Role != "tool" && toolCallId is not null)
        {
            throw ApiErrors.BadRequest($"{where}.tool_call_id is only allowed on a tool message", "messages");
        }

        List<ChatToolCall>? calls = null;
        if (RequestParser.Field(m, "tool_calls") is { } toolCalls)
        {
            if (message.Role != "assistant")
            {
                throw ApiErrors.BadRequest($"{where}.tool_calls is only allowed on an assistant message", "messages");
            }

            calls = ToolCalls(toolCalls, $"{where}.tool_calls");
        }

        var contentIsNull = RequestParser.Field(m, "content") is null;
        if (contentIsNull && message.Role == "assistant" && calls is not { Count: > 0 })
        {
            throw ApiErrors.BadRequest($"{where}.content is required unless the assistant message has tool_calls", "messages");
        }

        return message with { Name = name, ToolCallId = toolCallId, ToolCalls = calls is { Count: > 0 } ? calls : null, ContentIsNull = contentIsNull };
    }

    private static List<ChatToolCall> ToolCalls(JsonElement array, string where)
    {
        if (array.ValueKind != JsonValueKind.Array)
        {
            throw ApiErrors.BadRequest($"{where} must be an array of tool calls", "messages");
        }

        var list = new List<ChatToolCall>(array.GetArrayLength());
        var i = 0;
        foreach (var call in array.EnumerateArray())
        {
            var at = $"{where}[{i}]";
            if (call.ValueKind != JsonValueKind.Object)
            {
                throw ApiErrors.BadRequest($"{at} must be an object {{\"id\",\"type\":\"function\",\"function\":{{\"name\",\"arguments\"}}}}", "messages");
            }

            var id = RequestParser.OptionalString(call, "id", $"{at}.id") ?? throw ApiErrors.BadRequest($"{at}.id is required", "messages");
            if (RequestParser.OptionalString(call, "type", $"{at}.type") is { } type && type != "function")
            {
                throw ApiErrors.BadRequest($"{at}.type must be \"function\", not \"{type}\"", "messages");
            }

            if (RequestParser.Field(call, "function") is not { ValueKind: JsonValueKind.Object } function)
            {
                throw ApiErrors.BadRequest($"{at}.function must be an object with name and arguments", "messages");
            }

            var name = RequestParser.OptionalString(function, "name", $"{at}.function.name")
                ?? throw ApiErrors.BadRequest($"{at}.function.name is required", "messages");
            var arguments = RequestParser.OptionalString(function, "arguments", $"{at}.function.arguments") ?? "{}";
            list.Add(new ChatToolCall(id, name, arguments) { ArgumentsObject = ParseArguments(arguments, $"{at}.function.arguments") });
            i++;
        }

        return list;
    }

    /// <summary>Templates render arguments as a mapping, so they must be a JSON object; anything else is named.</summary>
    private static JsonElement ParseArguments(string arguments, string where)
    {
        try
        {
            using var doc = JsonDocument.Parse(arguments);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw ApiErrors.BadRequest($"{where} must be a JSON object in a string, not {doc.RootElement.ValueKind.ToString().ToLowerInvariant()}", "messages");
            }

            return doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw ApiErrors.BadRequest($"{where} is not valid JSON: {e.Message}", "messages");
        }
    }
}
