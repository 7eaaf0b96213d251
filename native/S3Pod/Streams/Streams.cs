using System.Collections.Concurrent;

namespace S3Pod.Streams;

/// <summary>A few equal-sized buffers reused across parts, so a multipart transfer allocates its
/// working set once instead of once per part.</summary>
internal sealed class BufferPool(int size, int max, byte[]? adopted = null)
{
    private readonly ConcurrentBag<byte[]> _free = new();
    // A buffer the caller already filled (a probe read) counts against the cap.
    private int _created = adopted is null ? 0 : 1;

    public byte[] Rent()
    {
        if (_free.TryTake(out var b)) return b;
        // Callers bound their own concurrency; the cap only guards against a logic error.
        if (Interlocked.Increment(ref _created) > max * 2) throw new InvalidOperationException("buffer pool exhausted");
        return GC.AllocateUninitializedArray<byte>(size);
    }

    public void Return(byte[] buffer) => _free.Add(buffer);
}

/// <summary>Base for read-only forwarding streams.</summary>
internal abstract class WrappingReadStream(Stream inner) : Stream
{
    protected Stream Inner { get; } = inner;
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => Inner.Read(buffer, offset, count);
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => Inner.ReadAsync(buffer, ct);
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    protected override void Dispose(bool disposing)
    {
        if (disposing) Inner.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>Reports the running count of bytes read.</summary>
internal sealed class ProgressStream(Stream inner, Action<long> progress) : WrappingReadStream(inner)
{
    private long _total;

    public override int Read(byte[] buffer, int offset, int count)
    {
        int n = Inner.Read(buffer, offset, count);
        progress(_total += n);
        return n;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        int n = await Inner.ReadAsync(buffer, ct);
        progress(_total += n);
        return n;
    }
}

/// <summary>
/// Reads a large object as consecutive fixed-size ranges fetched in parallel, and hands them out in
/// order, so a single consumer (a file, a hash, zstd -d) gets parallel-GET throughput with memory
/// bounded by <c>window × chunk</c>. The fetch delegate fills a buffer with one range.
/// </summary>
internal sealed class PrefetchingRangeStream : Stream
{
    public delegate Task FetchRange(long offset, int count, Memory<byte> destination, CancellationToken ct);

    private readonly long _length;
    private readonly int _chunk;
    private readonly int _window;
    private readonly FetchRange _fetch;
    private readonly Queue<(Task Task, byte[] Buffer, int Count)> _pending = new();
    private readonly BufferPool _pool;
    private readonly CancellationTokenSource _cts = new();
    private long _nextOffset;
    private byte[]? _current;
    private int _currentCount, _currentPos;
    private long _position;

    public PrefetchingRangeStream(long length, int chunk, int window, FetchRange fetch)
    {
        _length = length;
        _chunk = chunk;
        _window = window;
        _fetch = fetch;
        _pool = new BufferPool(chunk, window + 1);
    }

    private void FillWindow()
    {
        while (_pending.Count < _window && _nextOffset < _length)
        {
            int count = (int)Math.Min(_chunk, _length - _nextOffset);
            var buf = _pool.Rent();
            _pending.Enqueue((_fetch(_nextOffset, count, buf, _cts.Token), buf, count));
            _nextOffset += count;
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        if (_current is null || _currentPos == _currentCount)
        {
            if (_current is not null) { _pool.Return(_current); _current = null; }
            FillWindow();
            if (_pending.Count == 0) return 0;
            var (task, buf, count) = _pending.Dequeue();
            try
            {
                await task.WaitAsync(ct);
            }
            catch
            {
                _cts.Cancel();
                throw;
            }
            _current = buf;
            _currentCount = count;
            _currentPos = 0;
            FillWindow();
        }
        int n = Math.Min(buffer.Length, _currentCount - _currentPos);
        _current.AsMemory(_currentPos, n).CopyTo(buffer);
        _currentPos += n;
        _position += n;
        return n;
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => _length;
    public override long Position { get => _position; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    private bool _disposed;

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_disposed)
        {
            _disposed = true;
            _cts.Cancel();
            // Let in-flight range requests finish failing before their buffers go away.
            foreach (var (task, _, _) in _pending)
            {
                try { task.Wait(TimeSpan.FromSeconds(5)); } catch { /* cancelled */ }
            }
            _pending.Clear();
            _cts.Dispose();
        }
        base.Dispose(disposing);
    }
}
