namespace S3Pod.Assets;

/// <summary>One version of an asset as the artifact store records it.</summary>
/// <param name="Version">The exact version the selector resolved to.</param>
/// <param name="Digest"><c>sha256:&lt;hex&gt;</c> of the stored content (a file's bytes; for a directory, its stored archive).</param>
/// <param name="Size">Bytes of the file, or of the directory's files.</param>
internal sealed record RemoteAsset(string Name, string Version, AssetKind Kind, string Digest, long Size);

/// <summary>
/// Where asset versions come from when the assets directory cannot answer alone: the artifact ledger
/// (<c>s3pod artifact</c>). The assets layer decides when to ask (never for a pinned version that is
/// present), holds the lock, and owns the local layout and the final rename; a source only resolves
/// and writes content where it is told. Without a source (no artifact store configured) resolution
/// uses the assets directory only.
/// </summary>
internal interface IAssetSource
{
    /// <summary>Where the ledger is (<c>s3://bucket/prefix</c>), for messages. Never holds secrets.</summary>
    string Location { get; }

    /// <summary>
    /// Resolves <paramref name="selector"/> for <paramref name="name"/>: null or <c>latest</c> (the highest
    /// live version), an exact version, a partial version (<c>1</c>: newest 1.*, whole numbers only), an
    /// alias or <c>head</c>. Throws <see cref="S3PodException"/> NotFound naming what is missing, and
    /// <see cref="Storage.StorageException"/> when the store cannot be reached (the caller may then
    /// fall back to what is present locally).
    /// </summary>
    Task<RemoteAsset> ResolveAsync(string name, string? selector, CancellationToken ct);

    /// <summary>
    /// Writes the content of <paramref name="asset"/> at <paramref name="destination"/>, which does not
    /// exist yet and is on the same file system as the final path: the file, or the directory with
    /// its contents. The content must be verified against <see cref="RemoteAsset.Digest"/> (Integrity
    /// failure otherwise); on any failure whatever was written at the destination may be left for
    /// the caller to remove.
    /// </summary>
    Task MaterializeAsync(RemoteAsset asset, string destination, CancellationToken ct);
}
