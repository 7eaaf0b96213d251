namespace S3Pod.Streams;

/// <summary>How a <see cref="ResumableReadStream"/> opens its source and decides about failures.</summary>
internal interface IResumePolicy
{
    /// <summary>Opens the rest of the range from <paramref name="offset"/> (pinned to one version).</summary>
    Task<Stream> OpenAsync(long offset, CancellationToken ct);

    /// <summary>Whether to try again after the <paramref name="attempt"/>-th failure in a row; waits the
    /// backoff before answering yes.</summary>
    Task<bool> ShouldRetryAsync(Exception error, int attempt, CancellationToken ct);

    /// <summary>The error to report when giving up.</summary>
    Exception GiveUp(Exception error, int attempts);

    /// <summary>The whole range was read.</summary>
    void Completed() { }
}

/// <summary>
/// Reads the bytes [start, end) of an object and survives a broken body: when a read fails (a reset,
/// a truncated body, an idle timeout), it reopens at the byte where it stopped — pinned to the same
/// version by the policy — and carries on, so one bad connection costs a retry, not the transfer.
/// A body that ends before <c>end</c> is a failure too, never a short read. The retry budget is
/// the stream's, not a read's: a server that breaks every connection after a few bytes ends the
/// transfer after the policy's attempts instead of crawling through it forever.
/// </summary>
internal sealed class ResumableReadStream(long start, long end, IResumePolicy policy) : Stream
{
    private readonly long _start = start;
    private Stream? _current;
    private long _position = start;
    private int _failures;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        if (_position >= end || buffer.Length == 0) return 0;
        while (true)
        {
            try
            {
                _current ??= await policy.OpenAsync(_position, ct);
                int n = await _current.ReadAsync(buffer[..(int)Math.Min(buffer.Length, end - _position)], ct);
                if (n == 0) throw new EndOfStreamException($"the body ended at byte {_position} of {end}");
                _position += n;
                if (_position >= end) policy.Completed();
                return n;
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                await CloseCurrentAsync();
                if (!await policy.ShouldRetryAsync(e, ++_failures, ct)) throw policy.GiveUp(e, _failures);
            }
        }
    }

    private async ValueTask CloseCurrentAsync()
    {
        if (_current is null) return;
        try { await _current.DisposeAsync(); } catch { /* a broken connection may fail to close; it is dropped either way */ }
        _current = null;
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => end - _start;
    public override long Position { get => _position - _start; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) _current?.Dispose();
        _current = null;
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await CloseCurrentAsync();
        await base.DisposeAsync();
    }
}
