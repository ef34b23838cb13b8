namespace WrinkleFree.Inference.Tokenization;

/// <summary>
/// GPT-2's reversible byte-to-character table: printable Latin-1 bytes stand for themselves, the other 68 bytes take the
/// characters from U+0100 upward in byte order, so every byte-level token is a string without spaces or control characters.
/// </summary>
internal static class ByteLevel
{
    /// <summary>The character that stands for each byte.</summary>
    public static readonly char[] ByteToChar = BuildByteToChar();

    /// <summary>One-character strings per byte, so merges and vocabulary lookups need no allocation per byte.</summary>
    public static readonly string[] ByteToString = Array.ConvertAll(ByteToChar, c => c.ToString());

    private static readonly short[] CharToByte = BuildCharToByte();

    /// <summary>The byte a mapped character stands for, or -1 when <paramref name="c"/> is not in the table.</summary>
    public static int ToByte(char c) => c < CharToByte.Length ? CharToByte[c] : -1;

    /// <summary>Maps UTF-8 bytes to their byte-level string.</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        // One character per byte: the mapped string doubles as an index into the UTF-8 bytes.
        var chars = bytes.Length <= 512 ? stackalloc char[bytes.Length] : new char[bytes.Length];
        for (var i = 0; i < bytes.Length; i++)
        {
            chars[i] = ByteToChar[bytes[i]];
        }

        return new string(chars);
    }

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char)b : (char)next++;
        }

        return map;
    }

    private static short[] BuildCharToByte()
    {
        var table = new short[324];
        Array.Fill(table, (short)-1);
        for (var b = 0; b < 256; b++)
        {
            table[ByteToChar[b]] = (short)b;
        }

        return table;
    }
}
