namespace WrinkleFree.Cli.Export;

/// <summary>
/// A spec or option an export cannot carry to the target tool: the message names the key or option and what to do
/// instead. Spec syntax errors stay <see cref="WrinkleFree.Service.Spec.ServiceSpecException"/>s with their line.
/// </summary>
public sealed class ExportException(string message) : Exception(message);
