using System.Text.Json.Serialization;

namespace S3Pod.Assets;

/// <summary>
/// The result of <c>asset path</c>, <c>asset fetch</c>, <c>asset get</c> (and each entry of a prefill):
/// where the content is and how it got there.
/// </summary>
/// <param name="Spec">What was asked for, as given.</param>
/// <param name="Path">The local file or directory (for <c>get</c>: the destination written).</param>
/// <param name="Action">hit (object cache, no request), revalidated (one HEAD: unchanged), download,
/// stale (store unreachable: an old copy served), local (present in the assets directory), override
/// (a manifest or environment override named the content).</param>
/// <param name="Kind">file or directory.</param>
/// <param name="Digest">The pinned digest the content was checked against, when there was one.</param>
/// <param name="Uri">The s3:// object, for object-cache content.</param>
/// <param name="Checked">When the store last confirmed an object-cache copy.</param>
/// <param name="OverriddenBy">manifest, or the environment variable that overrode the asset.</param>
internal sealed record AssetResult(
    string Spec,
    string Path,
    string Action,
    string Kind,
    long? Size,
    string? Name = null,
    string? Version = null,
    string? Digest = null,
    string? Uri = null,
    [property: JsonPropertyName("etag")] string? ETag = null,
    string? Sha256 = null,
    DateTimeOffset? Checked = null,
    string? OverriddenBy = null,
    double Seconds = 0);

/// <summary>One manifest entry in <c>asset ls</c>.</summary>
/// <param name="Kind">version (a pin), file or s3 (an override).</param>
/// <param name="Value">The entry's value as the manifest shows it.</param>
/// <param name="Present">Whether the content is on this machine now (assets directory, object cache, or the override's file).</param>
/// <param name="Path">Where it is when present.</param>
internal sealed record AssetListEntry(string Name, string Key, string Kind, string Value, string? Version, string? Digest, bool Present, string? Path);

internal sealed record AssetListResult(string Manifest, string Format, string? Repository, IReadOnlyList<AssetListEntry> Assets);

/// <summary>A reason <c>asset check</c> fails, for one entry.</summary>
/// <param name="Path">The entry's key as the manifest writes it.</param>
/// <param name="Problem">override (the manifest still names a file or an s3:// object instead of a version),
/// missing (the pinned version does not exist in the artifact store), digest-mismatch (it exists with another digest).</param>
internal sealed record AssetProblem(string Path, string Name, string Problem, string Detail);

/// <param name="Store">The artifact store the pins were checked against, or null when none is configured (overrides checked only).</param>
/// <param name="Warnings">Things worth knowing that do not fail the check (environment overrides in force, no store).</param>
internal sealed record AssetCheckResult(string Manifest, bool Ok, IReadOnlyList<AssetProblem> Problems, IReadOnlyList<string> Warnings, string? Store = null);

/// <summary><c>asset add</c> / <c>asset update</c>: a new version pushed through the artifact ledger and pinned in the manifest.</summary>
/// <param name="Path">The manifest key.</param>
/// <param name="Previous">The version the manifest pinned before (null for add).</param>
/// <param name="Pinned">Whether the manifest now pins this version (false when a concurrent update pinned a higher one first).</param>
/// <param name="Uploaded">False when the content was already in the store.</param>
internal sealed record AssetPublishResult(string Manifest, string Path, string Name, string Version, string? Previous, string Digest, string Kind, long Size,
    bool Pinned, bool Uploaded, int Attempts, double Seconds);

/// <summary>One version in <c>asset versions</c>.</summary>
/// <param name="Pinned">The manifest pins it.</param>
/// <param name="Present">It is in the local assets directory.</param>
internal sealed record AssetVersionEntry(string Version, DateTimeOffset Created, bool Pinned, bool Present, IReadOnlyList<string> Aliases);

/// <summary><c>asset versions PATH</c>: the store's live versions, newest first.</summary>
internal sealed record AssetVersionsResult(string Path, string Name, string Scheme, string? Latest, string? Pinned, IReadOnlyList<AssetVersionEntry> Versions);

/// <summary>One asset of <c>asset ls-remote</c>.</summary>
/// <param name="Latest">The highest release, or null when it has none.</param>
/// <param name="Pinned">The version the manifest pins, when it has the asset.</param>
internal sealed record AssetRemoteEntry(string Name, string Scheme, string? Latest, string? Pinned);

internal sealed record AssetRemoteListResult(string Store, string Prefix, IReadOnlyList<AssetRemoteEntry> Assets);

/// <summary>One materialised entry of <c>asset sync</c>.</summary>
/// <param name="Path">The manifest key.</param>
/// <param name="Version">The version (null for an override).</param>
/// <param name="Local">Where it is on this machine.</param>
/// <param name="Downloaded">Fetched now (false: it was present).</param>
internal sealed record AssetSyncEntry(string Path, string Name, string? Version, string? Digest, string Local, bool Downloaded, long? Size);

/// <summary>An entry <c>asset sync</c> could not materialise.</summary>
internal sealed record AssetSyncFailure(string Path, string Error, [property: JsonIgnore] FailureKind Kind);

/// <summary>The result of <c>asset sync</c> (the contract of the CI action and task: names are fixed).</summary>
/// <param name="Pruned">With <c>--prune</c>: the <c>name:version</c>s removed from the assets directory (else empty).</param>
internal sealed record AssetSyncResult(string Manifest, string AssetsDir, IReadOnlyList<AssetSyncEntry> Entries, int Downloaded, int Present, IReadOnlyList<AssetSyncFailure> Failed,
    IReadOnlyList<string> Pruned);

/// <summary>One object in <c>asset cache ls</c>.</summary>
/// <param name="AgeSeconds">Since it was downloaded.</param>
/// <param name="Outdated">Due for revalidation on its next use (older than the TTL, not immutable).</param>
internal sealed record CachedObjectEntry(string Uri, string Path, long Size, [property: JsonPropertyName("etag")] string? ETag, string Sha256, DateTimeOffset Downloaded, DateTimeOffset Checked, double AgeSeconds, bool Outdated, bool Immutable);

/// <param name="Missing">URIs that could not be fetched for want of a network or credentials, sorted.</param>
internal sealed record AssetCacheListResult(string Directory, IReadOnlyList<CachedObjectEntry> Objects, IReadOnlyList<string> Missing);

internal sealed record AssetCacheRemoveResult(string Uri, bool Removed);

/// <param name="Uri">The object invalidated, or null for --all.</param>
internal sealed record AssetCacheInvalidateResult(string? Uri, int Invalidated);

/// <summary>An entry of a list that could not be fetched or packed.</summary>
internal sealed record AssetFailure(string Entry, string Error, [property: JsonIgnore] FailureKind Kind)
{
    /// <summary>Set by the command layer, which alone knows exit codes.</summary>
    public int ExitCode { get; init; }
}

/// <summary>The result of <c>asset prefill</c>.</summary>
/// <param name="Downloaded">Entries fetched from the store now.</param>
/// <param name="UpToDate">Entries already present (and revalidated where due).</param>
/// <param name="Stale">Entries served from an old copy because the store could not be reached.</param>
/// <param name="Failed">Every failed entry, in list order.</param>
internal sealed record AssetPrefillResult(int Entries, int Downloaded, int UpToDate, int Stale, IReadOnlyList<AssetFailure> Failed, double Seconds);

/// <summary>One bundle file written by <c>asset pack</c>.</summary>
/// <param name="Size">Bytes of the bundle file.</param>
/// <param name="ContentSize">Bytes of the objects and assets inside.</param>
internal sealed record AssetBundleFile(string Path, long Size, int Objects, int Assets, long ContentSize);

internal sealed record AssetPackResult(IReadOnlyList<AssetBundleFile> Bundles, int Entries, long ContentSize, double Seconds);

/// <param name="Objects">Objects put into the object cache.</param>
/// <param name="Assets">Versions put into the assets directory.</param>
/// <param name="AlreadyPresent">Asset versions that were present already (versions are immutable: kept).</param>
internal sealed record AssetUnpackResult(IReadOnlyList<string> Bundles, int Objects, int Assets, int AlreadyPresent, double Seconds);
