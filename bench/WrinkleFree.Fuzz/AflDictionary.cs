using System.Text;

namespace WrinkleFree.Fuzz;

/// <summary>Writes tokens in afl's dictionary syntax (<c>name="value"</c>, with <c>\xNN</c> for bytes outside printable ASCII).</summary>
internal static class AflDictionary
{
    public static string Escape(byte[] token)
    {
        var sb = new StringBuilder(token.Length);
        foreach (var b in token)
        {
            if (b is < 0x20 or >= 0x7f or (byte)'"' or (byte)'\\')
            {
                sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\x{b:X2}");
            }
            else
            {
                sb.Append((char)b);
            }
        }

        return sb.ToString();
    }
}
