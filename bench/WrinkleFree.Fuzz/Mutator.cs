using System.Buffers.Binary;

namespace WrinkleFree.Fuzz;

/// <summary>
/// Seeded input mutations in the spirit of AFL's havoc stage, written here because the in-process mode must run without
/// AFL (CI has none): bit flips, interesting integers, byte inserts and deletes, block duplication, splices with another
/// corpus entry and dictionary tokens. The same seed gives the same sequence of inputs, so a failure reproduces.
/// </summary>
internal sealed class Mutator(IReadOnlyList<byte[]> corpus, IReadOnlyList<byte[]> dictionary, int maxBytes, int seed)
{
    private static readonly long[] Interesting =
    [
        0, 1, -1, 2, 7, 8, 16, 24, 32, 64, 100, 127, 128, 255, 256, 512, 1000, 1024, 4096, 32767, 32768, 65535, 65536,
        int.MaxValue, int.MinValue, (long)int.MaxValue + 1, uint.MaxValue, long.MaxValue, long.MinValue, 1L << 31, 1L << 32,
        1L << 40, 1L << 62,
    ];

    private readonly Random _random = new(seed);

    /// <summary>A new input: a corpus entry (or nothing) after 1 to 8 stacked mutations.</summary>
    public byte[] Next()
    {
        var data = new List<byte>(corpus.Count == 0 ? [] : corpus[_random.Next(corpus.Count)]);
        var rounds = 1 << _random.Next(4);
        for (var i = 0; i < rounds; i++)
        {
            Mutate(data);
        }

        if (data.Count > maxBytes)
        {
            data.RemoveRange(maxBytes, data.Count - maxBytes);
        }

        return [.. data];
    }

    private void Mutate(List<byte> data)
    {
        switch (_random.Next(data.Count == 0 ? 3 : 11))
        {
            case 0:
                data.InsertRange(Position(data, inclusive: true), RandomBytes(_random.Next(1, 9)));
                break;
            case 1:
                if (dictionary.Count > 0)
                {
                    data.InsertRange(Position(data, inclusive: true), dictionary[_random.Next(dictionary.Count)]);
                }

                break;
            case 2:
                if (corpus.Count > 0)
                {
                    Splice(data, corpus[_random.Next(corpus.Count)]);
                }

                break;
            case 3:
                var bit = _random.Next(data.Count * 8);
                data[bit / 8] ^= (byte)(1 << (bit % 8));
                break;
            case 4:
                data[Position(data)] = (byte)_random.Next(256);
                break;
            case 5:
                data[Position(data)] += (byte)_random.Next(-35, 36);
                break;
            case 6:
                WriteInteger(data);
                break;
            case 7:
                var at = Position(data);
                data.RemoveRange(at, Math.Min(data.Count - at, 1 + _random.Next(Math.Min(32, data.Count))));
                break;
            case 8:
                // Duplicate a block: repeated structure (nesting, list entries) is where parsers' limits live.
                var from = Position(data);
                var length = Math.Min(data.Count - from, 1 + _random.Next(64));
                var block = data.GetRange(from, length);
                var copies = 1 + _random.Next(8);
                for (var c = 0; c < copies && data.Count < maxBytes; c++)
                {
                    data.InsertRange(from, block);
                }

                break;
            case 9:
                if (dictionary.Count > 0)
                {
                    var token = dictionary[_random.Next(dictionary.Count)];
                    var where = Position(data);
                    data.RemoveRange(where, Math.Min(token.Length, data.Count - where));
                    data.InsertRange(where, token);
                }

                break;
            default:
                var a = Position(data);
                var b = Position(data);
                (data[a], data[b]) = (data[b], data[a]);
                break;
        }
    }

    private void Splice(List<byte> data, byte[] other)
    {
        if (other.Length == 0)
        {
            return;
        }

        var cut = Position(data, inclusive: true);
        var start = _random.Next(other.Length);
        data.RemoveRange(cut, data.Count - cut);
        data.AddRange(other.AsSpan(start).ToArray());
    }

    private void WriteInteger(List<byte> data)
    {
        var value = Interesting[_random.Next(Interesting.Length)];
        var width = 1 << _random.Next(4);
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(bytes, value);
        if (_random.Next(2) == 0 && width > 1)
        {
            bytes[..width].Reverse();
        }

        var at = Position(data);
        for (var i = 0; i < width && at + i < data.Count; i++)
        {
            data[at + i] = bytes[i];
        }

        // Text formats read numbers as digits, not bytes: half the time write the decimal text instead.
        if (_random.Next(2) == 0)
        {
            var text = System.Text.Encoding.ASCII.GetBytes(value.ToString(System.Globalization.CultureInfo.InvariantCulture));
            data.InsertRange(at, text);
        }
    }

    private byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        _random.NextBytes(bytes);
        return bytes;
    }

    private int Position(List<byte> data, bool inclusive = false) => _random.Next(data.Count + (inclusive ? 1 : 0));
}
