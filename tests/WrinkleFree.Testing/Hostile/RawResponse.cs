using System.Text;

namespace WrinkleFree.Testing.Hostile;

/// <summary>One HTTP/1.1 response as read off the socket: status, headers (lower-case names) and the de-chunked body.</summary>
public sealed record RawResponse(int Status, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string Text => Encoding.UTF8.GetString(Body);
}
