using System.Globalization;
using System.Text;

namespace WrinkleFree.Replica.Chat;

/// <summary>Python's strftime for the <c>strftime_now</c> global (C locale names, glibc's %-d no-padding form).</summary>
internal static class PythonStrftime
{
    public static string Format(DateTimeOffset time, string format)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        for (var i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length)
            {
                sb.Append(format[i]);
                continue;
            }

            var spec = format[++i];
            var noPad = false;
            if (spec == '-' && i + 1 < format.Length)
            {
                noPad = true;
                spec = format[++i];
            }

            string Num(int value, int width) => noPad ? value.ToString(c) : value.ToString(new string('0', width), c);

            sb.Append(spec switch
            {
                'a' => time.ToString("ddd", c),
                'A' => time.ToString("dddd", c),
                'b' or 'h' => time.ToString("MMM", c),
                'B' => time.ToString("MMMM", c),
                'd' => Num(time.Day, 2),
                'e' => time.Day.ToString(c).PadLeft(2),
                'm' => Num(time.Month, 2),
                'y' => Num(time.Year % 100, 2),
                'Y' => time.Year.ToString(c),
                'H' => Num(time.Hour, 2),
                'I' => Num(time.Hour % 12 == 0 ? 12 : time.Hour % 12, 2),
                'M' => Num(time.Minute, 2),
                'S' => Num(time.Second, 2),
                'f' => (time.Ticks % TimeSpan.TicksPerSecond / 10).ToString("000000", c),
                'p' => time.Hour < 12 ? "AM" : "PM",
                'j' => Num(time.DayOfYear, 3),
                'w' => ((int)time.DayOfWeek).ToString(c),
                'u' => (time.DayOfWeek == DayOfWeek.Sunday ? 7 : (int)time.DayOfWeek).ToString(c),
                'z' => (time.Offset < TimeSpan.Zero ? "-" : "+") + time.Offset.ToString("hhmm", c),
                'Z' => time.Offset == TimeSpan.Zero ? "UTC" : "",
                'F' => time.ToString("yyyy-MM-dd", c),
                'T' => time.ToString("HH:mm:ss", c),
                'D' => time.ToString("MM/dd/yy", c),
                '%' => "%",
                _ => "%" + (noPad ? "-" : "") + spec,
            });
        }

        return sb.ToString();
    }
}
