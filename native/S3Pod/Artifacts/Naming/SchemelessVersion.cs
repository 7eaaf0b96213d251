using System.Text.RegularExpressions;

namespace S3Pod.Artifacts;

/// <summary>
/// A version whose scheme is unknown (as the local assets directory sees it, without the artifact's record):
/// numeric components compare as numbers (so <c>10.0</c> is above <c>9.3</c>), a SemVer pre-release
/// (<c>1.2.3-rc.1</c>) sorts below its release by SemVer 2.0 precedence, build metadata is ignored,
/// and anything else (date versions <c>2025-01-02T03-04-05Z</c>) compares as text, which is their
/// order. This agrees with every artifact scheme (int, semver, major-minor, date).
/// </summary>
internal sealed partial class SchemelessVersion : IComparable<SchemelessVersion>
{
    public string Text { get; }
    /// <summary>The numeric components (<c>1.2.5</c> → "1", "2", "5", leading zeros dropped), or null
    /// for a version that is not numeric. Kept as digit strings: numbers of any length compare right.</summary>
    public IReadOnlyList<string>? Release { get; }
    private readonly string[] _pre;

    private SchemelessVersion(string text, IReadOnlyList<string>? release, string[] pre)
    {
        Text = text;
        Release = release;
        _pre = pre;
    }

    /// <summary>Whether <paramref name="text"/> can be a version name at all (a directory entry that is not, is ignored).</summary>
    public static bool TryParse(string text, out SchemelessVersion version)
    {
        version = null!;
        if (text.Length > 128 || !VersionPattern().IsMatch(text)) return false;
        var core = text.Split('+')[0];
        var release = core;
        string[] pre = [];
        int dash = core.IndexOf('-');
        if (dash > 0 && NumericPattern().IsMatch(core[..dash]) && core[..dash].Split('.').Length == 3)
        {
            release = core[..dash];
            pre = core[(dash + 1)..].Split('.');
            if (pre.Any(p => p.Length == 0)) pre = [];
        }
        version = new SchemelessVersion(text, NumericPattern().IsMatch(release) ? release.Split('.').Select(TrimZeros).ToList() : null, pre);
        return true;
    }

    public static SchemelessVersion Parse(string text) =>
        TryParse(text, out var v) ? v : throw S3PodException.Usage($"'{text}' is not a version");

    /// <summary>A partial version such as <c>1</c> or <c>1.2</c>: numeric components only.</summary>
    public static bool IsPartial(string selector) => NumericPattern().IsMatch(selector);

    /// <summary>
    /// Whether this version lies under the partial <paramref name="partial"/>: its leading numeric
    /// components equal the partial's, compared whole (so <c>1</c> matches <c>1.0</c> and <c>1.2.5</c>
    /// but never <c>10.0</c> or <c>123.4</c>, as a text prefix would).
    /// </summary>
    public bool IsUnder(string partial)
    {
        if (Release is null) return false;
        var wanted = partial.Split('.').Select(TrimZeros).ToList();
        return Release.Count >= wanted.Count && wanted.Select((n, i) => n == Release[i]).All(x => x);
    }

    public int CompareTo(SchemelessVersion? other)
    {
        if (other is null) return 1;
        if ((Release is null) != (other.Release is null)) return Release is null ? -1 : 1;
        if (Release is null) return string.CompareOrdinal(Text, other.Text);
        for (int i = 0; i < Math.Max(Release.Count, other.Release!.Count); i++)
        {
            int c = CompareNumbers(i < Release.Count ? Release[i] : "0", i < other.Release.Count ? other.Release[i] : "0");
            if (c != 0) return c;
        }
        int byPre = SemverPrecedence.ComparePrerelease(_pre, other._pre);
        return byPre != 0 ? byPre : string.CompareOrdinal(Text, other.Text);
    }

    private static string TrimZeros(string digits) => digits.TrimStart('0') is { Length: > 0 } t ? t : "0";

    private static int CompareNumbers(string a, string b) => SemverPrecedence.CompareDigits(a, b);

    public override string ToString() => Text;

    [GeneratedRegex("^[0-9A-Za-z][0-9A-Za-z._+-]*$")]
    private static partial Regex VersionPattern();

    [GeneratedRegex(@"^[0-9]+(\.[0-9]+)*$")]
    private static partial Regex NumericPattern();
}
