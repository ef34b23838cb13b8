namespace WrinkleFree.Inference.Sampling.Constraints;

/// <summary>A JSON schema this server cannot enforce: <see cref="Path"/> is where in the schema, <see cref="Keyword"/> what.</summary>
public sealed class JsonSchemaException : ArgumentException
{
    public JsonSchemaException(string path, string keyword, string message)
        : base($"{path}: {message}")
    {
        Path = path;
        Keyword = keyword;
    }

    public JsonSchemaException()
    {
        Path = "";
        Keyword = "";
    }

    public JsonSchemaException(string message)
        : base(message)
    {
        Path = "";
        Keyword = "";
    }

    public JsonSchemaException(string message, Exception inner)
        : base(message, inner)
    {
        Path = "";
        Keyword = "";
    }

    /// <summary>JSON-pointer-like location in the schema, e.g. <c>#/properties/name/pattern</c>.</summary>
    public string Path { get; }

    /// <summary>The schema keyword that is not supported or not valid.</summary>
    public string Keyword { get; }
}
