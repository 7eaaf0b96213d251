namespace S3Pod.Cache;

/// <summary>
/// What a cache entry records about itself, stored as <c>&lt;version&gt;.json</c> next to its archive
/// (a stored format, versioned by <see cref="Schema"/>; 1.0 manifests have no schema and no archive
/// name). Written last and create-only: it is the commit point of a save.
/// </summary>
/// <param name="Schema"><see cref="CurrentSchema"/>; null in manifests written by s3pod 1.0.</param>
/// <param name="Format">The archive format, <c>tar+zstd/1</c>.</param>
/// <param name="Version">Digest of the path list.</param>
/// <param name="Archive">The archive's object name in the entry's directory; null: the 1.0 name.</param>
/// <param name="Size">Bytes of the archive object.</param>
/// <param name="Sha256">Digest of the archive object.</param>
/// <param name="ETag">The archive object's ETag when it was written.</param>
internal sealed record CacheManifest(
    string? Schema,
    string Format,
    string Key,
    string Scope,
    string Version,
    IReadOnlyList<string> Paths,
    long Files,
    long UncompressedSize,
    long Size,
    string Sha256,
    string? ETag,
    string? Archive,
    DateTimeOffset Created,
    string CreatedBy)
{
    public const string CurrentSchema = "s3pod.cache/v2";
}

/// <param name="Key">Cache key (arch suffix applied).</param>
/// <param name="Paths">actions/cache-style paths: files, directories, ~, globs, !exclusions.</param>
/// <param name="Scope">Scope to write (e.g. a branch ref); null is <c>default</c>.</param>
/// <param name="Level">zstd level 1-19.</param>
internal sealed record SaveRequest(string Key, IReadOnlyList<string> Paths, string? Scope, int Level);

/// <param name="SkippedReason">exists (the entry was there), created-meanwhile (a racing save won).</param>
/// <param name="Size">Bytes of the archive stored.</param>
internal sealed record SaveResult(string Key, string? Scope, bool Saved, string? SkippedReason, long Size, long Files, long UncompressedSize, double Seconds);

/// <param name="RestoreKeys">Prefixes tried after the exact key, in order, newest match first.</param>
/// <param name="FallbackScopes">Scopes read after <see cref="Scope"/>, in order.</param>
/// <param name="LookupOnly">Only say whether something matches.</param>
internal sealed record RestoreRequest(
    string Key,
    IReadOnlyList<string> RestoreKeys,
    IReadOnlyList<string> Paths,
    string? Scope,
    IReadOnlyList<string> FallbackScopes,
    bool LookupOnly);

/// <param name="Size">Bytes of the matched archive, null on a miss.</param>
/// <param name="Miss">Why nothing matched (null on a hit).</param>
internal sealed record RestoreResult(
    string PrimaryKey,
    string? MatchedKey,
    bool ExactMatch,
    string? MatchedScope,
    long? Size,
    bool Restored,
    bool LookupOnly,
    long? Files,
    double Seconds,
    MissExplanation? Miss);

/// <summary>Why a restore missed: a one-line summary, the reasons, and the nearest entries that exist.</summary>
internal sealed record MissExplanation(string Summary, IReadOnlyList<string> Reasons, IReadOnlyList<NearEntry> Nearest);

/// <summary>An entry that exists and resembles what was asked for, with what differs.</summary>
internal sealed record NearEntry(string Scope, string Key, IReadOnlyList<string>? Paths, DateTimeOffset LastModified, IReadOnlyList<string> Differences);

/// <summary>The result of <c>s3pod explain</c>: what a restore with these inputs would match, and why not.</summary>
internal sealed record ExplainResult(string PrimaryKey, bool Hit, string? MatchedKey, string? MatchedScope, bool ExactMatch, MissExplanation? Miss);

internal sealed record InspectEntry(string Object, string Scope, string Key, string Version, long Size, DateTimeOffset LastModified, DateTimeOffset LastUsed, CacheManifest? Manifest);

internal sealed record InspectResult(string Key, IReadOnlyList<InspectEntry> Entries);

internal sealed record PruneEntry(string Scope, string Key, string Version, long Size, DateTimeOffset LastUsed);

/// <param name="Orphans">Archives that no manifest names (saves that lost a race or crashed), removed when older than an hour.</param>
internal sealed record PruneResult(bool DryRun, IReadOnlyList<PruneEntry> Deleted, long FreedBytes, int Kept, long KeptBytes, int Orphans);
