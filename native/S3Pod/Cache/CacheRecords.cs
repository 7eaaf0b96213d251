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
/// <param name="Chunks">A chunked entry (schema v3): its chunks in stream order; Size is then the sum of their
/// stored sizes and Sha256 the digest of their digests, one per line.</param>
/// <param name="TreeDigest">Digest of the tree's names, types, modes and bytes (not mtimes): what <c>save --update</c> compares.</param>
/// <param name="UploadedBytes">Bytes the save that wrote this entry uploaded (the rest it found in the store).</param>
/// <param name="Image">An image entry (<c>save --docker-image</c>): the image reference saved; the chunks
/// are then its <c>docker save</c> stream and <see cref="Paths"/> is empty.</param>
/// <param name="ImageId">An image entry: the image ID when it was saved, what <c>save --update</c> compares.</param>
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
    string CreatedBy,
    IReadOnlyList<Chunks.ChunkRef>? Chunks = null,
    string? TreeDigest = null,
    long? UploadedBytes = null,
    int? UploadedChunks = null,
    string? Image = null,
    string? ImageId = null)
{
    public const string CurrentSchema = "s3pod.cache/v2";
    /// <summary>A chunked entry (<see cref="Chunks"/> set, no archive): see Chunks/ChunkLayout.cs.</summary>
    public const string ChunkedSchema = "s3pod.cache/v3";
    public const string ChunkedFormat = "chunks+zstd/1";

    public bool IsChunked => Chunks is not null;
}

/// <param name="Key">Cache key (arch suffix applied).</param>
/// <param name="Paths">actions/cache-style paths: files, directories, ~, globs, !exclusions.</param>
/// <param name="Scope">Scope to write (e.g. a branch ref); null is <c>default</c>.</param>
/// <param name="Level">zstd level 1-19.</param>
/// <param name="Update">Replace the entry when the tree differs (compare-and-swap on its manifest).</param>
internal sealed record SaveRequest(string Key, IReadOnlyList<string> Paths, string? Scope, int Level, bool Update = false);

/// <param name="SkippedReason">exists (the entry was there), created-meanwhile (a racing save won),
/// unchanged (--update: same tree), updated-meanwhile (--update: a racing update won).</param>
/// <param name="Size">Bytes of the archive stored (chunked: of all its chunks, shared ones included).</param>
/// <param name="UploadedBytes">Chunked: compressed bytes this save uploaded.</param>
/// <param name="ReusedBytes">Chunked: uncompressed bytes of chunks the store already had.</param>
/// <param name="Updated">--update replaced an existing entry.</param>
/// <param name="Image">An image entry: the image reference, and its ID as saved.</param>
internal sealed record SaveResult(string Key, string? Scope, bool Saved, string? SkippedReason, long Size, long Files, long UncompressedSize, double Seconds,
    long? UploadedBytes = null, long? ReusedBytes = null, int? Chunks = null, int? UploadedChunks = null, bool Updated = false, string? Image = null, string? ImageId = null);

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
/// <param name="Image">An image entry: the image reference and ID the matched entry holds.</param>
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
    MissExplanation? Miss,
    long? DownloadedBytes = null,
    long? ChunkCacheBytes = null,
    string? Image = null,
    string? ImageId = null);

/// <summary>Why a restore missed: a one-line summary, the reasons, and the nearest entries that exist.</summary>
internal sealed record MissExplanation(string Summary, IReadOnlyList<string> Reasons, IReadOnlyList<NearEntry> Nearest);

/// <summary>An entry that exists and resembles what was asked for, with what differs.</summary>
/// <param name="Image">The entry is an image (<see cref="Paths"/> is then null).</param>
internal sealed record NearEntry(string Scope, string Key, IReadOnlyList<string>? Paths, DateTimeOffset LastModified, IReadOnlyList<string> Differences, string? Image = null);

/// <summary>The result of <c>s3pod explain</c>: what a restore with these inputs would match, and why not.</summary>
internal sealed record ExplainResult(string PrimaryKey, bool Hit, string? MatchedKey, string? MatchedScope, bool ExactMatch, MissExplanation? Miss);

/// <param name="Manifest">The manifest, without its chunk list (see Chunks).</param>
/// <param name="Chunks">Chunked entries: how many chunks, their stored and logical (uncompressed) bytes, and
/// how many bytes the save uploaded (the rest was reused from the store).</param>
internal sealed record InspectEntry(string Object, string Scope, string Key, string Version, long Size, DateTimeOffset LastModified, DateTimeOffset LastUsed, CacheManifest? Manifest,
    int? Chunks = null, long? StoredSize = null, long? LogicalSize = null, long? UploadedBytes = null);

internal sealed record InspectResult(string Key, IReadOnlyList<InspectEntry> Entries);

internal sealed record PruneEntry(string Scope, string Key, string Version, long Size, DateTimeOffset LastUsed);

/// <param name="Orphans">Archives that no manifest names (saves that lost a race or crashed), removed when older than an hour.</param>
/// <param name="Chunks">The chunk collection that followed (null when none ran).</param>
internal sealed record PruneResult(bool DryRun, IReadOnlyList<PruneEntry> Deleted, long FreedBytes, int Kept, long KeptBytes, int Orphans, Chunks.CollectResult? Chunks = null);
