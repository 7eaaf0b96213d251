namespace S3Pod.Assets;

/// <summary>
/// The sidecar of one object in the object cache (<c>objects/.meta/&lt;digest of the URI&gt;.json</c>).
/// It is written after the content is in place and removed just before the content is replaced, so
/// an entry counts only when both exist and the file has <see cref="Size"/> bytes.
/// </summary>
/// <param name="Path">The content file, relative to the <c>objects</c> directory, '/'-separated.</param>
/// <param name="ETag">The ETag the store gave for the bytes downloaded: revalidation compares it,
/// never a recomputed MD5 (which multipart and SSE-KMS objects do not have).</param>
/// <param name="Sha256">Of the local file, computed while it was downloaded.</param>
/// <param name="Checked">When the store last confirmed this copy (download or revalidation).</param>
internal sealed record CachedObjectRecord(
    string Schema,
    string Uri,
    string Path,
    [property: System.Text.Json.Serialization.JsonPropertyName("etag")] string? ETag,
    long Size,
    string Sha256,
    DateTimeOffset LastModified,
    DateTimeOffset Downloaded,
    DateTimeOffset Checked)
{
    public const string CurrentSchema = "s3pod.object-cache/v1";
}

/// <summary>The URIs that could not be fetched because the store was unreachable or no credentials
/// worked, sorted: <c>objects/.missing.json</c>.</summary>
internal sealed record MissingObjectsRecord(string Schema, IReadOnlyList<string> Uris)
{
    public const string CurrentSchema = "s3pod.object-cache-missing/v1";
}
