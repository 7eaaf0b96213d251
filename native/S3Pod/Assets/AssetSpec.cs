using System.Text.RegularExpressions;
using S3Pod.Artifacts;

namespace S3Pod.Assets;

/// <summary>
/// What a user names an asset by: <c>name[:selector][@sha256:HEX][[sub/path]]</c> (modelkit's
/// grammar plus the artifact digest pin), e.g. <c>some/asset:1.2</c>, <c>some/dir/asset:0.1[content0]</c>.
/// A name written with a leading '/' (<c>/foo/bar.csv</c>) is a baiji manifest path: it must be in the
/// manifest, which then supplies the version unless the spec gives one.
/// </summary>
/// <param name="Name">The artifact name, leading '/' stripped.</param>
/// <param name="Selector">A version, a partial version (<c>1</c>, <c>1.2</c>), <c>latest</c>, <c>head</c> or an alias; null: not given.</param>
/// <param name="Digest"><c>sha256:&lt;hex&gt;</c> the content must have, or null.</param>
/// <param name="SubPath">A path inside a directory asset, '/'-separated, or null.</param>
/// <param name="ManifestPath">Written with a leading '/': resolved through the manifest.</param>
internal sealed partial record AssetSpec(string Text, string Name, string? Selector, string? Digest, string? SubPath, bool ManifestPath)
{
    /// <summary>The artifact spec grammar (<see cref="ArtifactSpec.Parse"/>), refused in the asset spec's words.</summary>
    public static AssetSpec Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) throw S3PodException.Usage("the asset spec is empty");
        var spec = ArtifactSpec.Parse(text.Trim(), "asset spec");
        return new AssetSpec(text, spec.Name, spec.SelectorText, spec.PinnedDigest is { } hex ? "sha256:" + hex : null, spec.SubPath, spec.ManifestPath);
    }

    /// <summary>An asset's name is an artifact name (<see cref="ArtifactNames.Validate"/>), refused in the spec's words.</summary>
    public static string ValidName(string name, string? shownAs = null) =>
        ArtifactNames.Validate(name, why => Bad(shownAs ?? name, why));

    /// <summary>The per-asset environment overrides name: upper case, '/', '-' and '.' as '_'
    /// (modelkit's MODELKIT_&lt;NAME&gt;_FILE). <c>/foo/bar.csv</c> → <c>FOO_BAR_CSV</c>.</summary>
    public static string EnvName(string name) =>
        name.TrimStart('/').ToUpperInvariant().Replace('/', '_').Replace('-', '_').Replace('.', '_');

    public string Describe(string? version = null)
    {
        var v = version ?? Selector;
        return Name + (v is null ? "" : ":" + v) + (SubPath is null ? "" : $"[{SubPath}]");
    }

    private static S3PodException Bad(string text, string why) => S3PodException.Usage($"asset spec '{text}': {why}");
}

/// <summary>
/// A version string as the local assets directory sees it, without knowing the artifact's scheme:
/// numeric components compare as numbers (so <c>10.0</c> is above <c>9.3</c>), a SemVer pre-release
/// (<c>1.2.3-rc.1</c>) sorts below its release by SemVer 2.0 precedence, build metadata is ignored,
/// and anything else (date versions <c>2025-01-02T03-04-05Z</c>) compares as text, which is their
/// order. This agrees with every artifact scheme (int, semver, major-minor, date).
/// </summary>
internal sealed partial class AssetVersion : IComparable<AssetVersion>
{
    public string Text { get; }
    /// <summary>The numeric components (<c>1.2.5</c> → "1", "2", "5", leading zeros dropped), or null
    /// for a version that is not numeric. Kept as digit strings: numbers of any length compare right.</summary>
    public IReadOnlyList<string>? Release { get; }
    private readonly string[] _pre;

    private AssetVersion(string text, IReadOnlyList<string>? release, string[] pre)
    {
        Text = text;
        Release = release;
        _pre = pre;
    }

    /// <summary>Whether <paramref name="text"/> can be a version name at all (a directory entry that is not, is ignored).</summary>
    public static bool TryParse(string text, out AssetVersion version)
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
        version = new AssetVersion(text, NumericPattern().IsMatch(release) ? release.Split('.').Select(TrimZeros).ToList() : null, pre);
        return true;
    }

    public static AssetVersion Parse(string text) =>
        TryParse(text, out var v) ? v : throw S3PodException.Usage($"'{text}' is not a version");

    /// <summary>A partial version such as <c>1</c> or <c>1.2</c>: numeric components only.</summary>
    public static bool IsPartial(string selector) => NumericPattern().IsMatch(selector);

    /// <summary>
    /// Whether this version lies under the partial <paramref name="partial"/>: its leading numeric
    /// components equal the partial's, compared whole (so <c>1</c> matches <c>1.0</c> and <c>1.2.5</c>
    /// but never <c>10.0</c> or <c>123.4</c>, modelkit's bug).
    /// </summary>
    public bool IsUnder(string partial)
    {
        if (Release is null) return false;
        var wanted = partial.Split('.').Select(TrimZeros).ToList();
        return Release.Count >= wanted.Count && wanted.Select((n, i) => n == Release[i]).All(x => x);
    }

    public int CompareTo(AssetVersion? other)
    {
        if (other is null) return 1;
        if ((Release is null) != (other.Release is null)) return Release is null ? -1 : 1;
        if (Release is null) return string.CompareOrdinal(Text, other.Text);
        for (int i = 0; i < Math.Max(Release.Count, other.Release!.Count); i++)
        {
            int c = CompareNumbers(i < Release.Count ? Release[i] : "0", i < other.Release.Count ? other.Release[i] : "0");
            if (c != 0) return c;
        }
        int byPre = ComparePre(_pre, other._pre);
        return byPre != 0 ? byPre : string.CompareOrdinal(Text, other.Text);
    }

    /// <summary>SemVer 2.0 §11: a pre-release is below the release; identifiers compare numerically
    /// when both are numbers, numbers sort below text, and a shorter list sorts first.</summary>
    private static int ComparePre(string[] a, string[] b)
    {
        if (a.Length == 0 || b.Length == 0) return b.Length.CompareTo(a.Length);
        for (int i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            bool an = a[i].All(char.IsAsciiDigit), bn = b[i].All(char.IsAsciiDigit);
            int c = an && bn ? CompareNumbers(TrimZeros(a[i]), TrimZeros(b[i])) : an ? -1 : bn ? 1 : string.CompareOrdinal(a[i], b[i]);
            if (c != 0) return c;
        }
        return a.Length.CompareTo(b.Length);
    }

    private static string TrimZeros(string digits) => digits.TrimStart('0') is { Length: > 0 } t ? t : "0";

    /// <summary>Two digit strings without leading zeros: the longer is the larger, else the first differing digit decides.</summary>
    private static int CompareNumbers(string a, string b) => a.Length != b.Length ? a.Length.CompareTo(b.Length) : string.CompareOrdinal(a, b);

    public override string ToString() => Text;

    [GeneratedRegex("^[0-9A-Za-z][0-9A-Za-z._+-]*$")]
    private static partial Regex VersionPattern();

    [GeneratedRegex(@"^[0-9]+(\.[0-9]+)*$")]
    private static partial Regex NumericPattern();
}
