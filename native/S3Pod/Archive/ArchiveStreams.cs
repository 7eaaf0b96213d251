using System.Buffers;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Microsoft.Win32.SafeHandles;

namespace S3Pod.Archive;

/// <summary>
/// The data of one regular file as TarWriter sees it: exactly <see cref="Length"/> bytes (the size lstat
/// gave, which is what the tar header says). A file that grows or shrinks while it is read fails the
/// pack with the file named (the header is already written; a cut copy would be stored as if it were
/// the file), whatever its size, as <c>upload</c> refuses a file that changes. CopyTo is overridden so file data moves in 1 MiB reads instead of
/// Stream.CopyTo's 80 KiB.
/// </summary>
/// <param name="digest">When set, every byte read is also appended to it (the packer's tree digest).</param>
internal sealed class FileDataStream(SafeFileHandle handle, long length, string path, byte[] copyBuffer, CancellationToken ct,
    System.Security.Cryptography.IncrementalHash? digest = null) : Stream
{
    private long _position;

    public override bool CanRead => true;
    // Seekable so TarWriter takes the size from Length and writes header + data in one pass.
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        long remaining = length - _position;
        if (remaining <= 0) return 0;
        if (buffer.Length > remaining) buffer = buffer[..(int)remaining];
        int n;
        try
        {
            n = RandomAccess.Read(handle, buffer, _position);
        }
        catch (IOException e)
        {
            throw S3PodException.Operational($"cannot read {path}: {e.Message}", e);
        }
        if (n == 0) throw S3PodException.Operational($"{path}: file shrank while it was being archived; nothing was stored");
        digest?.AppendData(buffer[..n]);
        _position += n;
        // At the end of what the header promised: one byte more means the file grew meanwhile.
        if (_position == length && RandomAccess.Read(handle, stackalloc byte[1], length) > 0)
            throw S3PodException.Operational($"{path}: file grew while it was being archived ({length} bytes when it was started); nothing was stored");
        return n;
    }

    public override void CopyTo(Stream destination, int bufferSize)
    {
        int n;
        while ((n = Read(copyBuffer)) > 0)
        {
            ct.ThrowIfCancellationRequested();
            destination.Write(copyBuffer, 0, n);
        }
    }

    public override long Seek(long offset, SeekOrigin origin)
    {
        long target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => length + offset,
        };
        if (target < 0 || target > length) throw new ArgumentOutOfRangeException(nameof(offset));
        _position = target;
        return target;
    }

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) handle.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>
/// Sits between the zstd encoder and the caller's output. Writes go through the caller's async API so
/// that cancellation reaches a stalled network stream. Once <see cref="Poison"/> is called every later
/// write is dropped: a failed pack must not end with a well-formed zstd frame around a tar that stops
/// half way (disposing the encoder would otherwise finish the frame and look like a valid archive).
/// </summary>
internal sealed class GuardedOutputStream(Stream inner, CancellationToken ct) : Stream
{
    private bool _poisoned;

    public void Poison() => _poisoned = true;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_poisoned || buffer.IsEmpty) return;
        ct.ThrowIfCancellationRequested();
        // The span cannot cross an await, so rent a copy; writes here are few and large (~1 MiB).
        byte[] tmp = ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            buffer.CopyTo(tmp);
            inner.WriteAsync(tmp.AsMemory(0, buffer.Length), ct).AsTask().GetAwaiter().GetResult();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(tmp);
        }
    }

    public override void Flush()
    {
        if (!_poisoned) inner.FlushAsync(ct).GetAwaiter().GetResult();
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}

/// <summary>
/// Decompresses on a second thread while the extracting thread parses tar and writes files, so a
/// restore uses both cores. At most <see cref="Depth"/> chunks of 1 MiB are in flight (bounded memory).
/// The producer's failure is rethrown to the reader at the point in the stream where it happened.
/// </summary>
internal sealed class ReadAheadStream : Stream
{
    private const int ChunkSize = 1 << 20;
    private const int Depth = 4;

    private readonly Channel<(byte[] Buffer, int Count)> _chunks =
        Channel.CreateBounded<(byte[], int)>(new BoundedChannelOptions(Depth) { SingleReader = true, SingleWriter = true });
    private readonly CancellationTokenSource _cts;
    private readonly Task _producer;
    private byte[]? _current;
    private int _currentCount;
    private int _currentPos;
    private bool _eof;

    /// <param name="fill">Fills the buffer; returns 0 at the end. Runs on the thread pool.</param>
    public ReadAheadStream(Func<Memory<byte>, CancellationToken, ValueTask<int>> fill, CancellationToken ct)
    {
        _cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        _producer = Task.Run(() => ProduceAsync(fill, _cts.Token));
    }

    private async Task ProduceAsync(Func<Memory<byte>, CancellationToken, ValueTask<int>> fill, CancellationToken ct)
    {
        try
        {
            while (true)
            {
                byte[] buf = ArrayPool<byte>.Shared.Rent(ChunkSize);
                int count = 0;
                try
                {
                    // Fill whole chunks: fewer hand-offs between threads.
                    while (count < ChunkSize)
                    {
                        int n = await fill(buf.AsMemory(count, ChunkSize - count), ct).ConfigureAwait(false);
                        if (n == 0) break;
                        count += n;
                    }
                }
                catch
                {
                    ArrayPool<byte>.Shared.Return(buf);
                    throw;
                }
                if (count == 0)
                {
                    ArrayPool<byte>.Shared.Return(buf);
                    break;
                }
                await _chunks.Writer.WriteAsync((buf, count), ct).ConfigureAwait(false);
                if (count < ChunkSize) break; // fill returned 0: the end
            }
            _chunks.Writer.TryComplete();
        }
        catch (Exception e)
        {
            _chunks.Writer.TryComplete(e);
        }
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (buffer.IsEmpty) return 0;
        while (_current is null || _currentPos == _currentCount)
        {
            if (_eof) return 0;
            if (_current is not null)
            {
                ArrayPool<byte>.Shared.Return(_current);
                _current = null;
            }
            if (!_chunks.Reader.TryRead(out var chunk))
            {
                bool more;
                try
                {
                    more = _chunks.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult();
                }
                catch (ChannelClosedException e) when (e.InnerException is not null)
                {
                    ExceptionDispatchInfo.Throw(e.InnerException);
                    throw;
                }
                if (!more)
                {
                    _eof = true;
                    return 0;
                }
                continue;
            }
            (_current, _currentCount, _currentPos) = (chunk.Buffer, chunk.Count, 0);
        }
        int n = Math.Min(buffer.Length, _currentCount - _currentPos);
        _current.AsSpan(_currentPos, n).CopyTo(buffer);
        _currentPos += n;
        return n;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _cts.Cancel();
            // Drain so the producer is not left blocked on a full channel, then wait for it to stop
            // touching the input before the caller reuses or closes it.
            while (_chunks.Reader.TryRead(out var c)) ArrayPool<byte>.Shared.Return(c.Buffer);
            try { _producer.Wait(); } catch (AggregateException) { }
            while (_chunks.Reader.TryRead(out var c)) ArrayPool<byte>.Shared.Return(c.Buffer);
            if (_current is not null) ArrayPool<byte>.Shared.Return(_current);
            _current = null;
            _cts.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>Replays the bytes already read to sniff the zstd magic, then continues with the input.</summary>
internal sealed class PrefixedStream(byte[] prefix, int prefixCount, Stream inner) : Stream
{
    private int _pos;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_pos < prefixCount)
        {
            int n = Math.Min(buffer.Length, prefixCount - _pos);
            prefix.AsSpan(_pos, n).CopyTo(buffer);
            _pos += n;
            return n;
        }
        return inner.Read(buffer);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_pos < prefixCount) return new ValueTask<int>(Read(buffer.Span));
        return inner.ReadAsync(buffer, cancellationToken);
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>
/// A read-only pass-through that remembers the last 512 bytes read: when TarReader gives up right
/// after reading a header (an entry type it does not support), that header is what it read last, and
/// the error can name the entry.
/// </summary>
internal sealed class LastBlockStream(Stream inner) : Stream
{
    private readonly byte[] _tail = new byte[512];
    private long _total;

    /// <summary>A copy of the last 512 bytes read, or null before that many were read.</summary>
    public byte[]? LastBlock => _total >= _tail.Length ? (byte[])_tail.Clone() : null;

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = inner.Read(buffer);
        Remember(buffer[..n]);
        return n;
    }

    private void Remember(ReadOnlySpan<byte> read)
    {
        if (read.Length >= _tail.Length)
        {
            read[^_tail.Length..].CopyTo(_tail);
        }
        else if (read.Length > 0)
        {
            _tail.AsSpan(read.Length).CopyTo(_tail);
            read.CopyTo(_tail.AsSpan(_tail.Length - read.Length));
        }
        _total += read.Length;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => _total; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
