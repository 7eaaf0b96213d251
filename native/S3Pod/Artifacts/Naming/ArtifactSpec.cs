using System.Text.RegularExpressions;
using S3Pod.Archive;

namespace S3Pod.Artifacts;

/// <summary>
/// What a read command asks for, for artifacts and assets alike:
/// <c>name[:selector][@sha256:HEX][[sub/path]]</c>. The selector is kept as text here because what
/// it means depends on the artifact's scheme (<c>1</c> is version 1 of an int artifact but "the
/// newest 1.x" of a semver one); <see cref="Selector.Parse"/> decides once the scheme is known.
/// </summary>
/// <param name="Name">The validated artifact name (a leading '/' dropped).</param>
/// <param name="SelectorText">The text after ':' or null (then: latest).</param>
/// <param name="PinnedDigest">Lower-case hex of an <c>@sha256:</c> pin, verified against what resolves.</param>
/// <param name="SubPath">A canonical relative path inside a directory artifact, or null.</param>
/// <param name="ManifestPath">The name was written with a leading '/': an asset manifest path.</param>
internal sealed partial record ArtifactSpec(string Name, string? SelectorText, string? PinnedDigest, string? SubPath, bool ManifestPath = false)
{
    public override string ToString() =>
        Name + (SelectorText is null ? "" : ":" + SelectorText) + (PinnedDigest is null ? "" : "@sha256:" + PinnedDigest) + (SubPath is null ? "" : $"[{SubPath}]");

    /// <summary>Parses a spec. <paramref name="what"/> opens every refusal ("spec", "asset spec");
    /// a bad name is refused in <see cref="ArtifactNames"/>' words unless <paramref name="what"/> is given.</summary>
    public static ArtifactSpec Parse(string spec, string? what = null)
    {
        S3PodException Bad(string why) => S3PodException.Usage($"{what ?? "spec"} {EntryNames.Quote(spec)}: {why}");
        if (string.IsNullOrWhiteSpace(spec)) throw S3PodException.Usage($"the {(what is null ? "artifact spec" : what)} is empty");
        string rest = spec;
        string? subPath = null;
        int open = rest.IndexOf('[');
        if (open >= 0)
        {
            if (!rest.EndsWith(']') || rest.IndexOf('[', open + 1) >= 0 || rest.IndexOf(']') != rest.Length - 1)
                throw Bad("a '[' must close with ']' at the end; a sub-path is written once, last: name:3[sub/path]");
            subPath = ValidSubPath(rest[(open + 1)..^1], Bad);
            rest = rest[..open];
        }

        string? digest = null;
        int at = rest.IndexOf('@');
        if (at >= 0)
        {
            var pin = rest[(at + 1)..].ToLowerInvariant();
            if (!DigestPattern().IsMatch(pin)) throw Bad($"'@{rest[(at + 1)..]}' is not @sha256: followed by 64 hex characters");
            digest = pin[7..];
            rest = rest[..at];
        }

        string? selector = null;
        int colon = rest.IndexOf(':');
        if (colon >= 0)
        {
            selector = rest[(colon + 1)..];
            if (!SelectorPattern().IsMatch(selector))
                throw Bad($"{EntryNames.Quote(selector)} after ':' is not a version, partial version or alias (nor latest or head)");
            rest = rest[..colon];
        }
        var name = what is null ? ArtifactNames.Validate(rest) : ArtifactNames.Validate(rest, Bad);
        return new ArtifactSpec(name, selector, digest, subPath, rest.StartsWith('/'));
    }

    /// <summary>
    /// A sub-path: relative, '/'-separated, made canonical (<c>a//b/./c/</c> is <c>a/b/c</c>); never
    /// '..', control characters, '\' (a separator on Windows, where it could climb out) or brackets.
    /// </summary>
    private static string ValidSubPath(string raw, Func<string, S3PodException> bad)
    {
        var trimmed = raw.Trim('/');
        if (trimmed.Length == 0) throw bad("the [sub/path] is empty");
        if (trimmed.Any(c => char.IsControl(c) || c is '\\' or '[' or ']'))
            throw bad("the [sub/path] may not hold control characters, '\\', '[' or ']'");
        return EntryNames.Normalize(trimmed) is { Length: > 0 } canonical
            ? canonical
            : throw bad("the [sub/path] must be a relative path inside the artifact, without '..'");
    }

    [GeneratedRegex("^[0-9A-Za-z][0-9A-Za-z._+-]*$")]
    private static partial Regex SelectorPattern();

    [GeneratedRegex("^sha256:[0-9a-f]{64}$")]
    private static partial Regex DigestPattern();
}

/// <summary>What a selector means under one scheme.</summary>
internal abstract record Selector
{
    /// <summary>The highest live release (computed, never stored).</summary>
    public sealed record Latest : Selector;
    /// <summary>The staging head.</summary>
    public sealed record Head : Selector;
    public sealed record Exact(ArtifactVersion Version) : Selector;
    /// <summary>The newest live release matching a partial version.</summary>
    public sealed record Partial(VersionPrefix Prefix) : Selector;
    public sealed record Alias(string Name) : Selector;

    /// <summary>
    /// A version first, then a partial version, then an alias (aliases start with a letter, so the
    /// two never overlap). <c>latest</c> is computed; <c>head</c> and <c>LATEST</c> (an older spelling) name
    /// the staging head.
    /// </summary>
    public static Selector Parse(string? text, VersionScheme scheme)
    {
        switch (text)
        {
            case null or "latest": return new Latest();
            case "head" or "HEAD" or "LATEST": return new Head();
        }
        if (scheme.TryParse(text) is { } version) return new Exact(version);
        if (scheme.TryParsePrefix(text) is { } prefix) return new Partial(prefix);
        if (ArtifactNames.IsReserved(text))
            throw S3PodException.Usage($"selector {EntryNames.Quote(text)} is ambiguous: write latest (the highest version) or head (the staging head; LATEST also works)");
        if (ArtifactNames.LooksLikeAlias(text)) return new Alias(ArtifactNames.ValidateAlias(text));
        throw S3PodException.Usage($"{EntryNames.Quote(text)} is neither a {scheme.Name} version (e.g. {scheme.Example}) nor an alias (aliases start with a letter)");
    }
}
