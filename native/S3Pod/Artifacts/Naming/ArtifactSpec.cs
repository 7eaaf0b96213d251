using S3Pod.Archive;

namespace S3Pod.Artifacts;

/// <summary>
/// What a read command asks for: <c>name[:selector][@sha256:HEX][[sub/path]]</c>. The selector is
/// kept as text here because what it means depends on the artifact's scheme (<c>1</c> is version 1
/// of an int artifact but "the newest 1.x" of a semver one); <see cref="Selector.Parse"/> decides
/// once the scheme is known.
/// </summary>
/// <param name="Name">The validated artifact name.</param>
/// <param name="SelectorText">The text after ':' or null (then: latest).</param>
/// <param name="PinnedDigest">Lower-case hex of an <c>@sha256:</c> pin, verified against what resolves.</param>
/// <param name="SubPath">A canonical relative path inside a directory artifact, or null.</param>
internal sealed record ArtifactSpec(string Name, string? SelectorText, string? PinnedDigest, string? SubPath)
{
    public override string ToString() =>
        Name + (SelectorText is null ? "" : ":" + SelectorText) + (PinnedDigest is null ? "" : "@sha256:" + PinnedDigest) + (SubPath is null ? "" : $"[{SubPath}]");

    public static ArtifactSpec Parse(string spec)
    {
        if (string.IsNullOrWhiteSpace(spec)) throw S3PodException.Usage("the artifact spec is empty");
        string rest = spec;
        string? subPath = null;
        int open = rest.IndexOf('[');
        if (open >= 0)
        {
            if (!rest.EndsWith(']') || rest.IndexOf('[', open + 1) >= 0 || rest.IndexOf(']') != rest.Length - 1)
                throw S3PodException.Usage($"spec {EntryNames.Quote(spec)}: a sub-path is written once, last, in brackets: name:3[sub/path]");
            var raw = rest[(open + 1)..^1].Trim('/');
            subPath = EntryNames.Normalize(raw);
            if (raw.Length == 0 || subPath is null || subPath.Length == 0 || raw.Any(char.IsControl))
                throw S3PodException.Usage($"spec {EntryNames.Quote(spec)}: the sub-path must be a relative path inside the artifact, without '..'");
            rest = rest[..open];
        }

        string? digest = null;
        int at = rest.IndexOf('@');
        if (at >= 0)
        {
            var pin = rest[(at + 1)..];
            if (!pin.StartsWith("sha256:", StringComparison.Ordinal) || pin.Length != 71 || !pin[7..].All(char.IsAsciiHexDigit))
                throw S3PodException.Usage($"spec {EntryNames.Quote(spec)}: a pin is @sha256: followed by 64 hex characters");
            digest = pin[7..].ToLowerInvariant();
            rest = rest[..at];
        }

        string? selector = null;
        int colon = rest.IndexOf(':');
        if (colon >= 0)
        {
            selector = rest[(colon + 1)..];
            if (selector.Length == 0) throw S3PodException.Usage($"spec {EntryNames.Quote(spec)}: nothing after ':' (a version, an alias, latest or head)");
            rest = rest[..colon];
        }
        return new ArtifactSpec(ArtifactNames.Validate(rest), selector, digest, subPath);
    }
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
    /// two never overlap). <c>latest</c> is computed; <c>head</c> and versioned's <c>LATEST</c> name
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
