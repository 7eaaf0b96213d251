using System.Security.Cryptography;

namespace S3Pod.Streams;

/// <summary>
/// Hashes what is read through it. When an expected digest and/or length are given, the check runs
/// at the end of the stream, inside the read that returns 0 — so a consumer that only commits after
/// seeing the end (the archive extractor, a temp file renamed into place, an upload completed after
/// its last part) never commits corrupt, truncated or changed data.
/// </summary>
/// <param name="inner">The stream to read.</param>
/// <param name="expectedSha256">Lower-case hex digest the content must have, or null.</param>
/// <param name="expectedLength">Length the content must have, or null.</param>
/// <param name="what">Names the content in messages ("cache deps-123", "/path/file").</param>
/// <param name="mismatch">What a mismatch means: <see cref="FailureKind.Integrity"/> for content read
/// from a store, <see cref="FailureKind.Operational"/> for a source file that changed while it was
/// being uploaded.</param>
/// <remarks>Over a seekable source it can be rewound to the start (an upload retried, or the SDK
/// re-reading the body after hashing it for SigV4): the hash starts again, and every pass to the end
/// is checked.</remarks>
internal sealed class HashingReadStream(
    Stream inner,
    string? expectedSha256 = null,
    long? expectedLength = null,
    string what = "object",
    FailureKind mismatch = FailureKind.Integrity)
    : WrappingReadStream(inner)
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _length;
    private string? _digest;

    public long BytesRead => _length;

    /// <summary>The sha256 of everything read, available once the end was reached.</summary>
    public string Sha256 => _digest ?? throw new InvalidOperationException("stream not read to its end");

    public override bool CanSeek => Inner.CanSeek;

    public override long Length => Inner.Length;

    public override long Position
    {
        get => Inner.Position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        if (offset != 0 || origin != SeekOrigin.Begin) throw new NotSupportedException("a hashed stream can only be rewound to its start");
        Inner.Position = 0;
        _hash.GetHashAndReset();
        _length = 0;
        _digest = null;
        return 0;
    }

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
            // A source that grows past its promised length is caught here, not after it filled a part.
            if (expectedLength is { } max && _length > max) throw Mismatch($"{what} {Changed} ({_length} bytes read, {max} expected)");
            // A consumer that reads exactly the promised length (a small object sent in one buffered
            // PUT) would never see the growth: look one byte past the end of a source file.
            if (mismatch == FailureKind.Operational && expectedLength is { } end && _length == end && GrewPastEnd())
                throw Mismatch($"{what} {Changed} (it grew past the {end} bytes it had when the upload started)");
            return;
        }
        if (_digest is not null) return;
        _digest = Convert.ToHexStringLower(_hash.GetHashAndReset());
        if (expectedLength is { } len && len != _length)
            throw Mismatch(mismatch == FailureKind.Integrity ? $"{what} is truncated: read {_length} of {len} bytes" : $"{what} {Changed} ({_length} bytes read, {len} expected)");
        if (expectedSha256 is { } sha && !sha.Equals(_digest, StringComparison.OrdinalIgnoreCase))
            throw Mismatch(mismatch == FailureKind.Integrity
                ? $"{what} failed its sha256 check (got {_digest[..16]}…, recorded {sha[..Math.Min(16, sha.Length)]}…)"
                : $"{what} {Changed} (its sha256 differs from the one computed before the upload)");
    }

    private bool GrewPastEnd()
    {
        if (!Inner.CanSeek) return false;
        long at = Inner.Position;
        Span<byte> one = stackalloc byte[1];
        int n = Inner.Read(one);
        Inner.Position = at;
        return n > 0;
    }

    private string Changed => mismatch == FailureKind.Integrity ? "is longer than recorded" : "changed while it was being uploaded; nothing was stored";

    private S3PodException Mismatch(string message) => new(mismatch, message);

    protected override void Dispose(bool disposing)
    {
        if (disposing) _hash.Dispose();
        base.Dispose(disposing);
    }
}
