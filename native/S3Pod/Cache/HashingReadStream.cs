using System.Security.Cryptography;
using S3Pod.Storage;

namespace S3Pod.Cache;

/// <summary>
/// Hashes what is read through it. When an expected digest and length are given, the check runs at
/// the end of the stream, inside the read that returns 0 — so a reader that only commits after
/// seeing the end (the archive extractor) never commits corrupt or truncated data.
/// </summary>
internal sealed class HashingReadStream(Stream inner, string? expectedSha256 = null, long? expectedLength = null, string what = "object")
    : WrappingReadStream(inner)
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _length;
    private string? _digest;

    public long BytesRead => _length;

    /// <summary>The sha256 of everything read, available once the end was reached.</summary>
    public string Sha256 => _digest ?? throw new InvalidOperationException("stream not read to its end");

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = Inner.Read(buffer);
        Account(buffer[..n]);
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        int n = await Inner.ReadAsync(buffer, ct);
        Account(buffer.Span[..n]);
        return n;
    }

    private void Account(ReadOnlySpan<byte> data)
    {
        if (data.Length > 0)
        {
            _hash.AppendData(data);
            _length += data.Length;
            return;
        }
        if (_digest is not null) return;
        _digest = Convert.ToHexStringLower(_hash.GetHashAndReset());
        if (expectedLength is { } len && len != _length)
            throw S3PodException.Integrity($"{what} is truncated: read {_length} of {len} bytes");
        if (expectedSha256 is { } sha && !sha.Equals(_digest, StringComparison.OrdinalIgnoreCase))
            throw S3PodException.Integrity($"{what} failed its sha256 check (got {_digest[..16]}…, recorded {sha[..Math.Min(16, sha.Length)]}…)");
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _hash.Dispose();
        base.Dispose(disposing);
    }
}
