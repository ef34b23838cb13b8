using System.Text;

namespace WrinkleFree.Jinja.Runtime;

/// <summary>Arithmetic and comparison with Python's rules (int/float promotion, floor division, sign of modulo).</summary>
internal static class JinjaOperators
{
    public static object? Negate(object? value) => value switch
    {
        long l => l == long.MinValue ? throw new JinjaError("integer overflow") : (object)-l,
        bool b => b ? -1L : 0L,
        double d => (object)-d,
        JinjaUndefined u => throw Undefined(u),
        _ => throw new JinjaError($"bad operand type for unary -: '{JinjaValues.TypeName(value)}'"),
    };

    public static bool Compare(string op, object? left, object? right) => op switch
    {
        "==" => JinjaValues.ValueEquals(left, right),
        "!=" => !JinjaValues.ValueEquals(left, right),
        "<" => JinjaValues.Compare(left, right, op) < 0,
        "<=" => JinjaValues.Compare(left, right, op) <= 0,
        ">" => JinjaValues.Compare(left, right, op) > 0,
        ">=" => JinjaValues.Compare(left, right, op) >= 0,
        "in" => JinjaValues.Contains(right, left),
        "not in" => !JinjaValues.Contains(right, left),
        _ => throw new JinjaError($"unknown comparison '{op}'"),
    };

    public static object? Binary(string op, object? a, object? b)
    {
        if (op == "~")
        {
            var (left, right) = (JinjaValues.ToStr(a), JinjaValues.ToStr(b));
            CheckLength(left.Length + (long)right.Length);
            return left + right;
        }

        if (a is JinjaUndefined ua)
        {
            throw Undefined(ua);
        }

        if (b is JinjaUndefined ub)
        {
            throw Undefined(ub);
        }

        try
        {
            checked
            {
                var ints = JinjaValues.IsInteger(a) && JinjaValues.IsInteger(b);
                var numbers = JinjaValues.IsNumber(a) && JinjaValues.IsNumber(b);
                switch (op)
                {
                    case "+":
                        if (ints)
                        {
                            return JinjaValues.AsLong(a) + JinjaValues.AsLong(b);
                        }

                        if (numbers)
                        {
                            return JinjaValues.AsDouble(a) + JinjaValues.AsDouble(b);
                        }

                        if (a is string s && b is string t)
                        {
                            CheckLength(s.Length + (long)t.Length);
                            return s + t;
                        }

                        if (a is List<object?> x && b is List<object?> y)
                        {
                            CheckLength(x.Count + (long)y.Count);
                            return new List<object?>([.. x, .. y]);
                        }

                        break;
                    case "-":
                        if (ints)
                        {
                            return JinjaValues.AsLong(a) - JinjaValues.AsLong(b);
                        }

                        if (numbers)
                        {
                            return JinjaValues.AsDouble(a) - JinjaValues.AsDouble(b);
                        }

                        break;
                    case "*":
                        if (ints)
                        {
                            return JinjaValues.AsLong(a) * JinjaValues.AsLong(b);
                        }

                        if (numbers)
                        {
                            return JinjaValues.AsDouble(a) * JinjaValues.AsDouble(b);
                        }

                        if (JinjaValues.IsInteger(b) && a is string or List<object?>)
                        {
                            return Repeat(a, JinjaValues.AsLong(b));
                        }

                        if (JinjaValues.IsInteger(a) && b is string or List<object?>)
                        {
                            return Repeat(b, JinjaValues.AsLong(a));
                        }

                        break;
                    case "/":
                        if (numbers)
                        {
                            var divisor = JinjaValues.AsDouble(b);
                            return divisor == 0 ? throw new JinjaError("division by zero") : JinjaValues.AsDouble(a) / divisor;
                        }

                        break;
                    case "//":
                        if (ints)
                        {
                            var (n, d) = (JinjaValues.AsLong(a), JinjaValues.AsLong(b));
                            if (d == 0)
                            {
                                throw new JinjaError("integer division by zero");
                            }

                            var q = n / d;
                            return (n % d != 0) && ((n < 0) != (d < 0)) ? q - 1 : q;
                        }

                        if (numbers)
                        {
                            var divisor = JinjaValues.AsDouble(b);
                            return divisor == 0 ? throw new JinjaError("float floor division by zero") : Math.Floor(JinjaValues.AsDouble(a) / divisor);
                        }

                        break;
                    case "%":
                        if (ints)
                        {
                            var (n, d) = (JinjaValues.AsLong(a), JinjaValues.AsLong(b));
                            if (d == 0)
                            {
                                throw new JinjaError("integer modulo by zero");
                            }

                            var r = n % d;
                            return r != 0 && ((r < 0) != (d < 0)) ? r + d : r;
                        }

                        if (numbers)
                        {
                            var (n, d) = (JinjaValues.AsDouble(a), JinjaValues.AsDouble(b));
                            return d == 0 ? throw new JinjaError("float modulo") : n - (d * Math.Floor(n / d));
                        }

                        if (a is string)
                        {
                            throw new JinjaError("printf-style '%' string formatting is not supported");
                        }

                        break;
                    case "**":
                        if (ints && JinjaValues.AsLong(b) >= 0)
                        {
                            return IntPow(JinjaValues.AsLong(a), JinjaValues.AsLong(b));
                        }

                        if (numbers)
                        {
                            return Math.Pow(JinjaValues.AsDouble(a), JinjaValues.AsDouble(b));
                        }

                        break;
                }
            }
        }
        catch (OverflowException)
        {
            throw new JinjaError("integer overflow");
        }

        throw new JinjaError($"unsupported operand type(s) for {op}: '{JinjaValues.TypeName(a)}' and '{JinjaValues.TypeName(b)}'");
    }

    private static long IntPow(long value, long exponent)
    {
        var result = 1L;
        checked
        {
            while (exponent > 0)
            {
                if ((exponent & 1) != 0)
                {
                    result *= value;
                }

                exponent >>= 1;
                if (exponent > 0)
                {
                    value *= value;
                }
            }
        }

        return result;
    }

    private static object Repeat(object? sequence, long count)
    {
        count = Math.Max(count, 0);
        CheckLength(count);
        if (sequence is string s)
        {
            CheckLength(s.Length * count);
            var sb = new StringBuilder((int)(s.Length * count));
            for (var i = 0; i < count; i++)
            {
                sb.Append(s);
            }

            return sb.ToString();
        }

        var list = (List<object?>)sequence!;
        CheckLength(list.Count * count);
        var result = new List<object?>((int)(list.Count * count));
        for (var i = 0; i < count; i++)
        {
            result.AddRange(list);
        }

        return result;
    }

    /// <summary>Strings and lists built by operators share the output cap so one expression cannot exhaust memory.</summary>
    public static bool CheckLength(long length) =>
        length <= JinjaRenderer.MaxOutputChars ? true : throw new JinjaError("value is too large");

    private static JinjaError Undefined(JinjaUndefined u) =>
        new(u.Name.Length > 0 ? $"'{u.Name}' is undefined" : "operation on an undefined value");
}
