using S3Pod.Artifacts;

namespace S3Pod.Assets;

/// <summary>
/// The artifact ledger as the source of asset versions. An asset is an artifact of the same name
/// (a manifest path <c>/foo/bar.csv</c> is the artifact <c>foo/bar.csv</c>: the name rules are the
/// same, both drop the leading '/'), so <c>s3pod artifact versions foo/bar.csv</c> shows the versions
/// an asset can pin, and an artifact pushed by hand is an asset too. New assets use the semver
/// scheme; an artifact created with another scheme keeps it.
/// </summary>
/// <param name="open">Builds the artifact service on first use: a pinned asset that is present never
/// needs it, and building it costs start-up time (it loads OpenSSL to name the record cache).</param>
internal sealed class ArtifactAssetSource(Func<ArtifactService> open, string location) : IAssetSource
{
    public const string Scheme = "semver";

    private readonly Lazy<ArtifactService> _artifacts = new(open);

    public string Location => location;

    public ArtifactService Artifacts => _artifacts.Value;

    /// <summary>
    /// A complete version whose record was seen before is answered from the local record cache
    /// (versions are immutable); latest, partial versions (<c>1</c> → newest 1.*, numbers compared
    /// whole) and aliases ask the store. An <c>X.Y</c> against a semver asset is the partial
    /// <c>X.Y</c>: the newest X.Y.*.
    /// </summary>
    public async Task<RemoteAsset> ResolveAsync(string name, string? selector, CancellationToken ct)
    {
        if (selector is not null && selector.Equals("head", StringComparison.OrdinalIgnoreCase))
            throw S3PodException.Usage($"{name}:head is the artifact's staging head, not a version; assets resolve versions only");
        var resolved = await Artifacts.ResolveAsync(new ArtifactSpec(name, selector, null, null), ct, allowCachedPin: true);
        var content = resolved.Content;
        return new RemoteAsset(name, resolved.Version!, content.IsDirectory ? AssetKind.Directory : AssetKind.File, content.Digest,
            content.IsDirectory ? content.ContentSize ?? content.Size : content.Size);
    }

    public async Task MaterializeAsync(RemoteAsset asset, string destination, CancellationToken ct)
    {
        // Resolved again from the record cache (the version was just resolved: no request).
        var resolved = await Artifacts.ResolveAsync(new ArtifactSpec(asset.Name, asset.Version, null, null), ct, allowCachedPin: true);
        if (resolved.Content.Digest != asset.Digest)
            throw S3PodException.Integrity($"{asset.Name}:{asset.Version} changed its digest between resolving and downloading ({asset.Digest} → {resolved.Content.Digest})");
        await Artifacts.WriteContentAsync(resolved, destination, null, ct);
    }
}
