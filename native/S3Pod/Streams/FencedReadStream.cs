namespace S3Pod.Streams;

/// <summary>
/// One attempt's view of a request body that is sent again on retry. When a connection breaks, the
/// HTTP client may still be copying the old attempt's body while the retry rewinds the source: two
/// readers of one stream (a hashing source then fails with "Concurrent operations from multiple
/// threads", a file with EINVAL). <see cref="FenceAsync"/> waits for the read in progress, and
/// every later read of this view fails, so the next attempt has the source to itself. Disposing
/// the view never closes the source (the caller owns it).
/// </summary>
internal sealed class FencedReadStream(Stream source) : Stream
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile bool _fenced;

    /// <summary>Ends this view: returns once no read of it is running.</summary>
    public async Task FenceAsync()
    {
        _fenced = true;
        await _gate.WaitAsync();
        _gate.Release();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try
        {
            ThrowIfFenced();
            return await source.ReadAsync(buffer, ct);
        }
        finally
        {
            _gate.Release();
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        _gate.Wait();
        try
        {
            ThrowIfFenced();
            return source.Read(buffer);
        }
        finally
        {
            _gate.Release();
        }
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        _gate.Wait();
        try
        {
            ThrowIfFenced();
            return source.Seek(offset, origin);
        }
        finally
        {
            _gate.Release();
        }
    }

    public override long Position
    {
        get => source.Position;
        set => Seek(value, SeekOrigin.Begin);
    }

    private void ThrowIfFenced()
    {
        if (_fenced) throw new IOException("the attempt this request body belonged to is over");
    }

    public override bool CanRead => true;
    public override bool CanSeek => source.CanSeek;
    public override bool CanWrite => false;
    public override long Length => source.Length;
    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        _fenced = true;
        base.Dispose(disposing);
    }
}
