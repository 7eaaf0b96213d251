using System.Text.RegularExpressions;
using S3Pod.Artifacts;

namespace S3Pod.Assets;

/// <summary>
/// What a user names an asset by: <c>name[:selector][@sha256:HEX][[sub/path]]</c> (the
/// artifact spec grammar), e.g. <c>some/asset:1.2</c>, <c>some/dir/asset:0.1[content0]</c>.
/// A name written with a leading '/' (<c>/foo/bar.csv</c>) is a manifest path: it must be in the
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
    /// (S3POD_ASSET_&lt;NAME&gt;_FILE). <c>/foo/bar.csv</c> → <c>FOO_BAR_CSV</c>.</summary>
    public static string EnvName(string name) =>
        name.TrimStart('/').ToUpperInvariant().Replace('/', '_').Replace('-', '_').Replace('.', '_');

    public string Describe(string? version = null)
    {
        var v = version ?? Selector;
        return Name + (v is null ? "" : ":" + v) + (SubPath is null ? "" : $"[{SubPath}]");
    }

    private static S3PodException Bad(string text, string why) => S3PodException.Usage($"asset spec '{text}': {why}");
}
