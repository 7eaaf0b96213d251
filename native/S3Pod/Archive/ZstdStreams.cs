using ZstdSharp;

namespace S3Pod.Archive;

/// <summary>zstd streams outside a tar (docker images): the same encoder as archives, and a decoder
/// whose damage is reported as an integrity failure naming the content.</summary>
internal static class ZstdStreams
{
    public static Stream Compress(Stream output, int level) => ZstdEncoder.Create(output, level, 1 << 20);

    /// <summary>Copies the decompressed <paramref name="input"/> to <paramref name="output"/>; a truncated or
    /// corrupt frame (checksum included) is <see cref="FailureKind.Integrity"/>. Errors of the input
    /// stream itself (the network) pass through unchanged.</summary>
    public static async Task DecompressAsync(Stream input, Stream output, string what, CancellationToken ct)
    {
        try
        {
            await using var zstd = new DecompressionStream(input, 1 << 20, checkEndOfStream: true, leaveOpen: true);
            await zstd.CopyToAsync(output, 1 << 20, ct);
        }
        catch (Exception e) when (e is ZstdException or InvalidDataException or EndOfStreamException)
        {
            throw S3PodException.Integrity($"{what} is not zstd-compressed or is corrupt ({e.Message.ReplaceLineEndings(" ")})");
        }
    }
}
