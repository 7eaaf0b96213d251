namespace S3Pod.Chunks;

/// <summary>
/// Where the chunk store lives in the bucket (under the store prefix, shared by every scope and key):
/// <code>
/// chunks/sha256/&lt;first 2 hex&gt;/&lt;64 hex&gt;     one zstd frame (checksum on) of the chunk whose
///                                             uncompressed bytes have that sha256
/// _gc/intents/chunks/&lt;id&gt;.json                a save in flight (Storage/CollectionGuard)
/// _gc/running/&lt;id&gt;.json                       a collection in flight (chunks or artifact blobs)
/// </code>
/// Chunks are immutable and named by content, so a PUT of a chunk that exists rewrites the same
/// bytes. Concatenating an entry's chunks in manifest order gives a valid tar.zst stream.
/// </summary>
internal static class ChunkLayout
{
    public const string Root = "chunks/sha256/";

    public static string Chunk(string sha256) => $"{Root}{sha256[..2]}/{sha256}";

    /// <summary>The digest a chunk object is named by, or null for anything else.</summary>
    public static string? Digest(string objectKey)
    {
        if (!objectKey.StartsWith(Root, StringComparison.Ordinal)) return null;
        var name = objectKey[(objectKey.LastIndexOf('/') + 1)..];
        return name.Length == 64 && name.AsSpan().IndexOfAnyExcept("0123456789abcdef") < 0 ? name : null;
    }
}
