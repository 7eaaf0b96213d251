using System.Globalization;

namespace S3Pod.Config;

/// <summary>Durations and sizes as people write them, parsed the same way everywhere.</summary>
internal static class Values
{
    /// <summary><c>500ms</c>, <c>30s</c>, <c>5m</c>, <c>12h</c>, <c>7d</c>, <c>2w</c>; <paramref name="what"/> names the input in errors.</summary>
    public static TimeSpan ParseDuration(string text, string what = "duration")
    {
        var t = text.Trim().ToLowerInvariant();
        var (number, unit) = t.EndsWith("ms", StringComparison.Ordinal) ? (t[..^2], "ms") : t.Length > 0 ? (t[..^1], t[^1..]) : ("", "");
        if (number.Length > 0 && double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= 0 && double.IsFinite(n))
        {
            switch (unit)
            {
                case "ms": return TimeSpan.FromMilliseconds(n);
                case "s": return TimeSpan.FromSeconds(n);
                case "m": return TimeSpan.FromMinutes(n);
                case "h": return TimeSpan.FromHours(n);
                case "d": return TimeSpan.FromDays(n);
                case "w": return TimeSpan.FromDays(7 * n);
            }
        }
        throw S3PodException.Usage($"{what} '{text}' is not a duration (use e.g. 500ms, 30s, 12h, 7d)");
    }

    /// <summary><c>500M</c>, <c>10G</c>, <c>1.5GiB</c>, <c>4096</c> (bytes).</summary>
    public static long ParseSize(string text, string what = "size")
    {
        var t = text.Trim().ToUpperInvariant().TrimEnd('B').TrimEnd('I');
        long unit = 1;
        if (t.Length > 0 && "KMGT".Contains(t[^1]))
        {
            unit = 1L << (10 * ("KMGT".IndexOf(t[^1]) + 1));
            t = t[..^1];
        }
        if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= 0 && double.IsFinite(n)) return (long)(n * unit);
        throw S3PodException.Usage($"{what} '{text}' is not a size (use e.g. 500M, 10G)");
    }

    /// <summary>For messages: "1.5 s", "200 ms", "2 min".</summary>
    public static string Describe(TimeSpan d) => Quantities.Duration(d);
}
