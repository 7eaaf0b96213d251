namespace S3Pod.Storage;

/// <summary>What a store knows about one object. <see cref="ETag"/> is opaque and only good for
/// conditions against the same store.</summary>
internal sealed record ObjectInfo(
    string Key,
    long Size,
    DateTimeOffset LastModified,
    string? ETag,
    IReadOnlyDictionary<string, string> Metadata)
{
    public static readonly IReadOnlyDictionary<string, string> NoMetadata = new Dictionary<string, string>();

    /// <summary>The sha256 s3pod recorded when it wrote the object, or null for objects written by other tools.</summary>
    public string? Sha256 => Metadata.TryGetValue(MetadataKeys.Sha256, out var v) ? v : null;

    /// <summary>What kind of s3pod object this is (<see cref="MetadataKeys.Format"/>), or null.</summary>
    public string? Format => Metadata.TryGetValue(MetadataKeys.Format, out var v) ? v : null;

    /// <summary>The writer id of a conditional write: tells a retried write that succeeded apart from another writer's.</summary>
    public string? Writer => Metadata.TryGetValue(MetadataKeys.Writer, out var v) ? v : null;
}

/// <summary>User-metadata keys s3pod writes, defined once (lower case: S3 folds user metadata to lower case anyway).</summary>
internal static class MetadataKeys
{
    public const string Sha256 = "s3pod-sha256";
    public const string Format = "s3pod-format";
    /// <summary>The docker image a <c>docker upload</c> saved.</summary>
    public const string Image = "s3pod-image";
    /// <summary>A random id per conditional write, so an ambiguous outcome (a response lost after the
    /// server committed) can be settled by looking at the object.</summary>
    public const string Writer = "s3pod-writer";
}

/// <summary>How a write may replace what is there.</summary>
internal abstract record WriteCondition
{
    /// <summary>Last writer wins.</summary>
    public static readonly WriteCondition None = new Unconditional();
    /// <summary>Create only (S3 <c>If-None-Match: *</c>).</summary>
    public static readonly WriteCondition IfAbsent = new Absent();
    /// <summary>Compare-and-swap: only replaces the object whose ETag is <paramref name="etag"/> (S3 <c>If-Match</c>).</summary>
    public static WriteCondition IfMatch(string etag) => new Match(etag);

    public sealed record Unconditional : WriteCondition;
    public sealed record Absent : WriteCondition;
    public sealed record Match(string ETag) : WriteCondition;
}

/// <summary>Options for one write.</summary>
internal sealed record PutOptions
{
    public WriteCondition Condition { get; init; } = WriteCondition.None;
    public IReadOnlyDictionary<string, string> Metadata { get; init; } = ObjectInfo.NoMetadata;
    /// <summary>Length of the content when known up front (files); null for streams such as tar | zstd.</summary>
    public long? Length { get; init; }
    public string ContentType { get; init; } = "application/octet-stream";
    /// <summary>Called with the running byte count, for progress reports.</summary>
    public Action<long>? Progress { get; init; }
}

/// <summary>The result of a write. An unconditional write is always <see cref="Written"/> (or throws).</summary>
internal abstract record PutOutcome
{
    /// <summary>The object is in place; <see cref="Object"/> carries its new ETag.</summary>
    public sealed record Written(ObjectInfo Object) : PutOutcome;

    /// <summary>The condition did not hold: create-only met an existing object, or compare-and-swap met
    /// another version (or none). <see cref="Current"/> is what is there now, when the store knows.</summary>
    public sealed record PreconditionFailed(ObjectInfo? Current) : PutOutcome;
}

/// <summary>The result of a delete.</summary>
internal enum DeleteOutcome
{
    Deleted,
    NotFound,
    /// <summary>An <c>If-Match</c> delete met another version: nothing was deleted.</summary>
    PreconditionFailed,
}

/// <summary>Options for one read.</summary>
internal sealed record ReadOptions
{
    public static readonly ReadOptions Default = new();

    /// <summary>Only read the version with this ETag: a different one is <see cref="StorageFailure.Changed"/>.</summary>
    public string? IfMatch { get; init; }
    /// <summary>Called with the running byte count, for progress reports.</summary>
    public Action<long>? Progress { get; init; }
}

/// <summary>A small object read whole: its metadata and content, from one write. Content holds
/// Info.Size bytes (the buffer may be longer); it is null when the object was larger than the limit.</summary>
internal sealed record WholeObject(ObjectInfo Info, byte[]? Content);

/// <summary>An open object: its metadata and its content, which come from the same write.</summary>
internal sealed record ObjectReader(ObjectInfo Info, Stream Content) : IAsyncDisposable
{
    public ValueTask DisposeAsync() => Content.DisposeAsync();
}

/// <summary>
/// A flat key/value object store: an S3 bucket (under a prefix) or a local directory. Keys are
/// relative to the store's prefix and '/'-separated. Every implementation guarantees that a reader
/// never sees half an object and that the metadata and content of one read come from one write.
/// Conditional writes report their outcome as a value (<see cref="PutOutcome"/>); what a lost race
/// means is the caller's business. Failures are <see cref="StorageException"/>.
/// </summary>
internal interface IObjectStore : IAsyncDisposable
{
    /// <summary>Where the store is, for messages (<c>s3://bucket/prefix</c>, <c>file:///dir</c>). Never contains secrets.</summary>
    string Location { get; }

    /// <summary>Which store this is, whatever its backend: stable across runs and distinct for two
    /// stores (endpoint, bucket and prefix; or directory and prefix), for keying local caches of its
    /// contents. Never contains secrets.</summary>
    string Identity { get; }

    Task<ObjectInfo?> HeadAsync(string key, CancellationToken ct);

    /// <summary>Writes <paramref name="content"/> (read to its end) as <paramref name="key"/>.
    /// An exception thrown by <paramref name="content"/> aborts the write and passes through unchanged.</summary>
    Task<PutOutcome> PutAsync(string key, Stream content, PutOptions options, CancellationToken ct);

    /// <summary>Opens the object for streaming, or returns null when it does not exist. Large objects
    /// may be read with parallel ranged requests behind the returned stream, pinned to one version;
    /// a failed body read is resumed where it stopped.</summary>
    Task<ObjectReader?> OpenReadAsync(string key, ReadOptions options, CancellationToken ct);

    /// <summary>
    /// Reads a small object whole with one GET and no HEAD before it (chunks, manifests: a HEAD per
    /// object would double the requests of a restore), or returns null when it does not exist. When
    /// the object is larger than <paramref name="maxBytes"/>, its content is not read and
    /// <see cref="WholeObject.Content"/> is null. A read that fails part-way is retried whole.
    /// <paramref name="allocate"/> gives the buffer for a size (one of a pool's, possibly longer).
    /// </summary>
    async Task<WholeObject?> ReadWholeAsync(string key, long maxBytes, CancellationToken ct, Func<int, byte[]>? allocate = null)
    {
        await using var opened = await OpenReadAsync(key, ReadOptions.Default, ct);
        if (opened is null) return null;
        if (opened.Info.Size > maxBytes) return new WholeObject(opened.Info, null);
        var content = allocate?.Invoke((int)opened.Info.Size) ?? new byte[opened.Info.Size];
        await opened.Content.ReadExactlyAsync(content.AsMemory(0, (int)opened.Info.Size), ct);
        return new WholeObject(opened.Info, content);
    }

    /// <summary>Lists objects whose key starts with <paramref name="prefix"/>, in key order, starting
    /// after <paramref name="startAfter"/> when given.</summary>
    IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken ct, string? startAfter = null);

    /// <summary>Deletes the object. With <paramref name="ifMatch"/>, only that version, where the
    /// server enforces it (<see cref="StoreCapabilities.ConditionalDelete"/>); elsewhere the check
    /// is a HEAD just before the delete.</summary>
    Task<DeleteOutcome> DeleteAsync(string key, CancellationToken ct, string? ifMatch = null);

    /// <summary>Checks that the store is reachable and usable (HEAD bucket / directory exists).</summary>
    Task CheckAccessAsync(CancellationToken ct);

    /// <summary>What this server enforces, probed once per endpoint and bucket and remembered (see
    /// <see cref="CapabilityCache"/>); <paramref name="refresh"/> probes again now.</summary>
    Task<StoreCapabilities> GetCapabilitiesAsync(CancellationToken ct, bool refresh = false);

    /// <summary>
    /// From now on, objects this store writes are given to the bucket owner as well (S3's
    /// <c>bucket-owner-full-control</c> canned ACL): where objects belong to their uploader (RGW, AWS
    /// buckets with ACLs enabled), what a write-only pusher writes is otherwise unreadable to the
    /// bucket's owner. Servers with ACLs disabled accept the header. A local store has no owners.
    /// </summary>
    void GrantBucketOwnerFullControl() { }
}

/// <summary>A store whose container can be created (an S3 bucket), for <c>init --create-bucket</c>.</summary>
internal interface IBucketAdmin
{
    /// <summary>Creates the bucket when it does not exist.</summary>
    Task EnsureBucketAsync(CancellationToken ct);
}
