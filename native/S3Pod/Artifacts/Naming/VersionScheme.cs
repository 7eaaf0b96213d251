using System.Globalization;
using S3Pod.Archive;

namespace S3Pod.Artifacts;

/// <summary>
/// One version of an artifact, parsed from its canonical text under its artifact's scheme. Two
/// versions of one scheme compare by their numbers as numbers (so 10.0 is above 9.9), then, for
/// semver, by SemVer 2.0 pre-release precedence (1.0.0-rc.1 &lt; 1.0.0). Only canonical texts parse
/// (no leading zeros), so one number has exactly one key in the bucket.
/// </summary>
internal sealed class ArtifactVersion : IComparable<ArtifactVersion>, IEquatable<ArtifactVersion>
{
    public ArtifactVersion(string text, long[] numbers, string[]? prerelease = null)
    {
        Text = text;
        Numbers = numbers;
        Prerelease = prerelease ?? [];
    }

    public string Text { get; }
    public IReadOnlyList<long> Numbers { get; }
    /// <summary>SemVer pre-release identifiers (<c>rc.1</c> → ["rc", "1"]); empty for a release and in other schemes.</summary>
    public IReadOnlyList<string> Prerelease { get; }
    public bool IsPrerelease => Prerelease.Count > 0;

    public int CompareTo(ArtifactVersion? other)
    {
        if (other is null) return 1;
        for (int i = 0; i < Math.Min(Numbers.Count, other.Numbers.Count); i++)
        {
            int c = Numbers[i].CompareTo(other.Numbers[i]);
            if (c != 0) return c;
        }
        int byLength = Numbers.Count.CompareTo(other.Numbers.Count);
        if (byLength != 0) return byLength;
        return SemverPrecedence.ComparePrerelease(Prerelease, other.Prerelease);
    }

    public bool Equals(ArtifactVersion? other) => other is not null && Text == other.Text;
    public override bool Equals(object? obj) => obj is ArtifactVersion v && Equals(v);
    public override int GetHashCode() => Text.GetHashCode(StringComparison.Ordinal);
    public override string ToString() => Text;

    public static bool operator <(ArtifactVersion a, ArtifactVersion b) => a.CompareTo(b) < 0;
    public static bool operator >(ArtifactVersion a, ArtifactVersion b) => a.CompareTo(b) > 0;
    public static bool operator <=(ArtifactVersion a, ArtifactVersion b) => a.CompareTo(b) <= 0;
    public static bool operator >=(ArtifactVersion a, ArtifactVersion b) => a.CompareTo(b) >= 0;
}

/// <summary>
/// SemVer 2.0 §11 precedence of pre-release identifiers, the one comparator both version kinds use
/// (<see cref="ArtifactVersion"/> under a known scheme, <see cref="SchemelessVersion"/> without one).
/// </summary>
internal static class SemverPrecedence
{
    /// <summary>An empty list is a release, above its pre-releases; identifiers compare numerically when
    /// both are numbers, numbers sort below text (ASCII order), and a shorter list sorts first.</summary>
    public static int ComparePrerelease(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        if (a.Count == 0 || b.Count == 0) return b.Count.CompareTo(a.Count);
        for (int i = 0; i < Math.Min(a.Count, b.Count); i++)
        {
            bool an = a[i].All(char.IsAsciiDigit), bn = b[i].All(char.IsAsciiDigit);
            int c = an && bn ? CompareDigits(TrimZeros(a[i]), TrimZeros(b[i])) : an ? -1 : bn ? 1 : string.CompareOrdinal(a[i], b[i]);
            if (c != 0) return c;
        }
        return a.Count.CompareTo(b.Count);
    }

    /// <summary>Two digit strings without leading zeros: the longer is the larger, else the first differing digit decides.</summary>
    public static int CompareDigits(string a, string b) => a.Length != b.Length ? a.Length.CompareTo(b.Length) : string.CompareOrdinal(a, b);

    private static string TrimZeros(string digits) => digits.TrimStart('0') is { Length: > 0 } t ? t : "0";
}

/// <summary>
/// A partial version (<c>1</c> or <c>1.2</c>): the newest release whose leading numbers are exactly
/// these. Whole components only, so <c>1</c> never matches <c>10.3</c> (as a text prefix would).
/// </summary>
internal sealed record VersionPrefix(string Text, long[] Numbers)
{
    public bool Matches(ArtifactVersion v)
    {
        if (v.IsPrerelease || v.Numbers.Count < Numbers.Length) return false;
        for (int i = 0; i < Numbers.Length; i++)
            if (v.Numbers[i] != Numbers[i]) return false;
        return true;
    }
}

/// <summary>How the versions of one artifact are written and ordered; fixed when the artifact is created.</summary>
internal abstract class VersionScheme
{
    /// <summary>1, 2, 3, …: a build counter.</summary>
    public static readonly VersionScheme Int = new IntScheme();
    /// <summary>MAJOR.MINOR.PATCH[-pre], SemVer 2.0 precedence, build metadata not allowed (two texts, one precedence).</summary>
    public static readonly VersionScheme Semver = new SemverScheme();
    /// <summary>X.Y: a model's major and minor version.</summary>
    public static readonly VersionScheme MajorMinor = new MajorMinorScheme();
    /// <summary>YYYY-MM-DDThh-mm-ssZ in UTC: needs no read access to assign.</summary>
    public static readonly VersionScheme Date = new DateScheme();

    public static IReadOnlyList<VersionScheme> All { get; } = [Int, Semver, MajorMinor, Date];

    /// <summary>The name stored in <c>_artifact.json</c> and given to <c>--scheme</c>.</summary>
    public abstract string Name { get; }

    /// <summary>An example of a version, for messages.</summary>
    public abstract string Example { get; }

    public override string ToString() => Name;

    public static VersionScheme Parse(string name) =>
        All.FirstOrDefault(s => s.Name == name)
        ?? throw S3PodException.Usage($"unknown version scheme {EntryNames.Quote(name)} (use {string.Join(", ", All.Select(s => s.Name))})");

    /// <summary>A complete version in canonical form, or null.</summary>
    public abstract ArtifactVersion? TryParse(string text);

    /// <summary>A partial version (semver <c>1</c>, <c>1.2</c>; major-minor <c>1</c>), or null.</summary>
    public virtual VersionPrefix? TryParsePrefix(string text) => null;

    /// <summary>A complete version or a usage error naming <paramref name="what"/> and the expected form.</summary>
    public ArtifactVersion Parse(string text, string what)
    {
        if (text.EndsWith(".tomb", StringComparison.Ordinal))
            throw S3PodException.Usage($"{what} {EntryNames.Quote(text)} cannot end with '.tomb' (reserved for tombstones)");
        return TryParse(text) ?? throw S3PodException.Usage($"{what} {EntryNames.Quote(text)} is not a {Name} version (e.g. {Example})");
    }

    /// <summary>Reads a number without sign, leading zeros or overflow.</summary>
    private protected static bool TryNumber(string s, out long n)
    {
        n = 0;
        if (s.Length == 0 || s.Length > 18 || !s.All(char.IsAsciiDigit) || (s.Length > 1 && s[0] == '0')) return false;
        n = long.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture);
        return true;
    }

    private protected static long[]? Numbers(string text, int count)
    {
        var parts = text.Split('.');
        if (parts.Length != count) return null;
        var numbers = new long[count];
        for (int i = 0; i < count; i++)
            if (!TryNumber(parts[i], out numbers[i])) return null;
        return numbers;
    }

    private sealed class IntScheme : VersionScheme
    {
        public override string Name => "int";
        public override string Example => "42";

        public override ArtifactVersion? TryParse(string text) =>
            TryNumber(text, out var n) && n >= 1 ? new ArtifactVersion(text, [n]) : null;
    }

    private sealed class SemverScheme : VersionScheme
    {
        public override string Name => "semver";
        public override string Example => "1.4.2 or 2.0.0-rc.1";

        public override ArtifactVersion? TryParse(string text)
        {
            if (text.Contains('+')) return null; // build metadata: two texts, one precedence
            int dash = text.IndexOf('-');
            var core = dash < 0 ? text : text[..dash];
            if (Numbers(core, 3) is not { } numbers) return null;
            if (dash < 0) return new ArtifactVersion(text, numbers);
            var identifiers = text[(dash + 1)..].Split('.');
            foreach (var id in identifiers)
            {
                if (id.Length == 0 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')) return null;
                if (id.All(char.IsAsciiDigit) && !TryNumber(id, out _)) return null; // no leading zeros
            }
            if (identifiers[^1] == "tomb") return null;
            return new ArtifactVersion(text, numbers, identifiers);
        }

        public override VersionPrefix? TryParsePrefix(string text) =>
            (Numbers(text, 1) ?? Numbers(text, 2)) is { } n ? new VersionPrefix(text, n) : null;
    }

    private sealed class MajorMinorScheme : VersionScheme
    {
        public override string Name => "major-minor";
        public override string Example => "3.12";

        public override ArtifactVersion? TryParse(string text) =>
            Numbers(text, 2) is { } n ? new ArtifactVersion(text, n) : null;

        public override VersionPrefix? TryParsePrefix(string text) =>
            Numbers(text, 1) is { } n ? new VersionPrefix(text, n) : null;
    }

    private sealed class DateScheme : VersionScheme
    {
        public const string Format = "yyyy-MM-dd'T'HH-mm-ss'Z'";
        public override string Name => "date";
        public override string Example => "2025-07-01T12-00-00Z";

        public override ArtifactVersion? TryParse(string text) =>
            DateTime.TryParseExact(text, Format, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t)
            && text.Length == 20
                ? FromTime(t)
                : null;
    }

    /// <summary>The date-scheme version of an instant (seconds are the resolution).</summary>
    public static ArtifactVersion DateVersion(DateTimeOffset t) => FromTime(t.UtcDateTime);

    private static ArtifactVersion FromTime(DateTime t) =>
        new(t.ToString(DateScheme.Format, CultureInfo.InvariantCulture), [t.Year, t.Month, t.Day, t.Hour, t.Minute, t.Second]);
}
