using System.Text.Json.Serialization;

namespace S3Pod.Artifacts;

/// <summary><c>artifacts/&lt;name&gt;/_artifact.json</c>: written once, create-only, by the first push or stage.</summary>
/// <param name="Scheme">The version scheme, fixed for the artifact's life.</param>
internal sealed record ArtifactRecord(string Schema, string Name, string Scheme, DateTimeOffset Created, string CreatedBy)
{
    public const string CurrentSchema = "s3pod.artifact/v1";
}

/// <summary>
/// <c>artifacts/&lt;name&gt;/_versions/&lt;v&gt;.json</c>: one immutable version, written create-only;
/// writing it is the commit point of a push or publish.
/// </summary>
/// <param name="Kind"><c>file</c> or <c>directory</c> (a tar+zstd archive restored to a directory).</param>
/// <param name="Blob">The content's key under <c>blobs/</c>: <c>sha256/&lt;2&gt;/&lt;hex&gt;</c> or <c>streamed/&lt;writer&gt;.tzst</c>.</param>
/// <param name="Digest"><c>sha256:&lt;hex&gt;</c> of the blob's bytes.</param>
/// <param name="Size">The blob's size in bytes.</param>
/// <param name="ContentSize">Directories: the bytes of the files in the archive.</param>
/// <param name="Files">Directories: the entries in the archive (files, links).</param>
/// <param name="Basename">Files: the pushed file's name (the default name for pull).</param>
/// <param name="Mode">Files: permission bits in octal, e.g. "0755".</param>
/// <param name="CreatedBy"><c>s3pod &lt;version&gt; on &lt;host&gt;</c>, plus the CI run when there is one.</param>
/// <param name="Writer">A random id per push: tells a retried write that succeeded apart from another writer's.</param>
/// <param name="FromHead">For a publish: the ETag of the head it published, so concurrent publishes of one head agree on one version.</param>
internal sealed record VersionRecord(
    string Schema,
    string Name,
    string Version,
    string Scheme,
    string Kind,
    string Blob,
    string Digest,
    long Size,
    long? ContentSize,
    long? Files,
    string? Basename,
    string? Mode,
    string ContentType,
    DateTimeOffset Created,
    string CreatedBy,
    string Writer,
    string? FromHead,
    Dictionary<string, string>? Metadata,
    string? TreeDigest = null)
{
    public const string CurrentSchema = "s3pod.version/v1";

    [JsonIgnore]
    public ContentRef Content => new(Kind, Blob, Digest, Size, ContentSize, Files, Basename, Mode, ContentType, TreeDigest);
}

/// <summary><c>_versions/&lt;v&gt;.tomb.json</c>: the version is deleted; its number is never handed out again.</summary>
/// <param name="Reason"><c>rm</c> or <c>purge</c>.</param>
internal sealed record TombstoneRecord(string Schema, string Version, DateTimeOffset Deleted, string DeletedBy, string Reason)
{
    public const string CurrentSchema = "s3pod.tombstone/v1";
}

/// <summary><c>_head.json</c>: the mutable staging head, replaced by compare-and-swap.</summary>
internal sealed record HeadRecord(
    string Schema,
    string Kind,
    string Blob,
    string Digest,
    long Size,
    long? ContentSize,
    long? Files,
    string? Basename,
    string? Mode,
    string ContentType,
    Dictionary<string, string>? Metadata,
    DateTimeOffset Updated,
    string UpdatedBy,
    string? TreeDigest = null)
{
    public const string CurrentSchema = "s3pod.head/v1";

    [JsonIgnore]
    public ContentRef Content => new(Kind, Blob, Digest, Size, ContentSize, Files, Basename, Mode, ContentType, TreeDigest);
}

/// <summary>
/// <c>_aliases/&lt;alias&gt;.json</c>: a named pointer at a version, replaced by compare-and-swap. A
/// removed alias keeps its object with <see cref="Version"/> null, so that removing is a
/// compare-and-swap like every other change (conditional DELETE is not enforced everywhere).
/// </summary>
/// <param name="Secondary">A second version that gets <see cref="Weight"/> percent of picks (canary), or null.</param>
/// <param name="Previous">The version the alias pointed at before this change (rollback).</param>
internal sealed record AliasRecord(string Schema, string Alias, string? Version, string? Secondary, int Weight, DateTimeOffset Updated, string UpdatedBy, string? Previous)
{
    public const string CurrentSchema = "s3pod.alias/v1";

    [JsonIgnore]
    public bool Removed => Version is null;
}

/// <summary>What content a version or the head points at: everything needed to fetch, verify and place it.</summary>
/// <param name="TreeDigest">Directories: <c>sha256:&lt;hex&gt;</c> of the tree's names, modes, link
/// targets and bytes (<see cref="Archive.ArchiveStats.TreeDigest"/>). Two archives of the same files
/// differ in mtimes and header details, so this, not <paramref name="Digest"/>, says whether two
/// directory versions hold the same content. Null for files (their digest is their content's).</param>
internal sealed record ContentRef(string Kind, string Blob, string Digest, long Size, long? ContentSize, long? Files, string? Basename, string? Mode, string ContentType,
    string? TreeDigest = null)
{
    public const string FileKind = "file";
    public const string DirectoryKind = "directory";

    public bool IsDirectory => Kind == DirectoryKind;

    /// <summary>The hex part of <see cref="Digest"/>.</summary>
    public string Sha256 => Digest.StartsWith("sha256:", StringComparison.Ordinal) ? Digest[7..] : Digest;

    /// <summary>Whether two contents hold the same thing: the same bytes, or the same directory tree
    /// packed twice (records written before tree digests existed compare by archive digest only).</summary>
    public bool SameContentAs(ContentRef other) =>
        Kind == other.Kind && (Digest == other.Digest || TreeDigest is not null && TreeDigest == other.TreeDigest);
}

/// <summary>A mutable record (alias, head) as last read, with the ETag it had: reused while a listing shows the same ETag.</summary>
internal sealed record CachedAlias(string Schema, string ETag, AliasRecord Record)
{
    public const string CurrentSchema = "s3pod.cached-alias/v1";
}

/// <inheritdoc cref="CachedAlias"/>
internal sealed record CachedHead(string Schema, string ETag, HeadRecord Record)
{
    public const string CurrentSchema = "s3pod.cached-head/v1";
}
