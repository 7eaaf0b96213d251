using System.Text.Json.Serialization;

namespace S3Pod.Chunks;

/// <summary>One chunk of an entry, in stream order (stored in the cache manifest).</summary>
/// <param name="Sha256">Digest of the uncompressed chunk: its name in the store.</param>
/// <param name="Size">Uncompressed bytes.</param>
/// <param name="Stored">Bytes of the stored (compressed) object.</param>
internal sealed record ChunkRef(string Sha256, long Size, long Stored);

/// <summary>What one chunked upload did.</summary>
/// <param name="UploadedBytes">Compressed bytes sent (chunks the store lacked).</param>
/// <param name="ReusedBytes">Uncompressed bytes of chunks that were already in the store (or repeated in this stream).</param>
internal sealed record ChunkUploadStats(IReadOnlyList<ChunkRef> Chunks, long UploadedBytes, int UploadedChunks, long ReusedBytes, int ReusedChunks)
{
    /// <summary>Stored bytes of the distinct chunks (a chunk repeated in the stream is stored once).</summary>
    public long StoredBytes => Chunks.DistinctBy(c => c.Sha256).Sum(c => c.Stored);
    public long LogicalBytes => Chunks.Sum(c => c.Size);
}

/// <summary>The entry the last restore of one path set brought in, kept in the local cache directory:
/// the next save of those paths starts its "what the store has" from it.</summary>
internal sealed record LastRestoreRecord(string Schema, string Location, string Scope, string Key, string Version, DateTimeOffset Restored)
{
    public const string CurrentSchema = "s3pod.last-restore/v1";
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = false)]
[JsonSerializable(typeof(LastRestoreRecord))]
internal sealed partial class ChunkJson : JsonSerializerContext;
