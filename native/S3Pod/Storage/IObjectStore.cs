namespace S3Pod.Storage;

/// <summary>What a store knows about one object. <see cref="ETag"/> is opaque and only good for
/// compare-and-swap against the same store.</summary>
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
}

/// <summary>Metadata keys s3pod writes (lower case: S3 folds user metadata to lower case anyway).</summary>
internal static class MetadataKeys
{
    public const string Sha256 = "s3pod-sha256";
}

/// <summary>How a write may replace what is there.</summary>
internal abstract record WriteCondition
{
    /// <summary>Last writer wins.</summary>
    public static readonly WriteCondition None = new Unconditional();
    /// <summary>Create only: fails with a conflict when the key exists (S3 <c>If-None-Match: *</c>).</summary>
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
    /// <summary>Called with the running byte count, for progress reports.</summary>
    public Action<long>? Progress { get; init; }
}

/// <summary>What the conditional-write probe found out about the server.</summary>
internal sealed record ConditionalWriteSupport(bool CreateOnly, bool CompareAndSwap, string Detail);

/// <summary>
/// A flat key/value object store: an S3 bucket (under a prefix) or a local directory. Keys are
/// relative to the store's prefix and '/'-separated. Every implementation guarantees that a reader
/// never sees half an object, and reports a lost conditional write as
/// <see cref="S3PodException"/> with <see cref="ExitCodes.Conflict"/>.
/// </summary>
internal interface IObjectStore : IAsyncDisposable
{
    /// <summary>Where the store is, for messages (<c>s3://bucket/prefix</c>, <c>file:///dir</c>). Never contains secrets.</summary>
    string Location { get; }

    Task<ObjectInfo?> HeadAsync(string key, CancellationToken ct);

    /// <summary>Writes <paramref name="content"/> (read to its end) as <paramref name="key"/>.</summary>
    Task<ObjectInfo> PutAsync(string key, Stream content, PutOptions options, CancellationToken ct);

    /// <summary>Opens the object for streaming, or returns null when it does not exist. Large objects
    /// may be read with parallel ranged requests behind the returned stream, pinned to one version.</summary>
    Task<(ObjectInfo Info, Stream Content)?> OpenReadAsync(string key, Action<long>? progress, CancellationToken ct);

    /// <summary>Lists objects whose key starts with <paramref name="prefix"/>, in key order.</summary>
    IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken ct);

    /// <summary>Deletes the object; returns false when it was not there.</summary>
    Task<bool> DeleteAsync(string key, CancellationToken ct);

    /// <summary>Checks that the store is reachable and usable (HEAD bucket / directory exists).</summary>
    Task CheckAccessAsync(CancellationToken ct);

    /// <summary>Finds out whether this server enforces create-only and compare-and-swap writes, with a
    /// few throw-away objects under <paramref name="probeKey"/>. Probe, don't assume: servers differ.</summary>
    Task<ConditionalWriteSupport> ProbeConditionalWritesAsync(string probeKey, CancellationToken ct);
}
