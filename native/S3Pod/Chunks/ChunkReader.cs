using System.Security.Cryptography;
using S3Pod.Storage;

namespace S3Pod.Chunks;

/// <summary>A chunk an entry names is not in the store (collected after its entry was removed, or
/// never written): the entry is gone, which a restore reports as a miss.</summary>
internal sealed class ChunkMissingException(string digest) : Exception($"chunk {digest} is missing from the store")
{
    public string Digest { get; } = digest;
}

/// <summary>
/// The read side of the chunk store: the plain tar stream of an entry, read in order while up to
/// <c>window</c> chunks are fetched, decompressed and verified (size and sha256) in parallel ahead
/// of the reader. A chunk that does not match its digest is exit 5 (integrity); a missing one is
/// <see cref="ChunkMissingException"/>. Chunks found in the local chunk cache are not fetched.
/// </summary>
internal sealed class ChunkReader : Stream
{
    private readonly IObjectStore _store;
    private readonly IReadOnlyList<ChunkRef> _chunks;
    private readonly ChunkCache? _cache;
    private readonly Action<long>? _progress;
    private readonly CancellationTokenSource _cts;
    private readonly Queue<Task<Decoded>> _ahead = new();
    private readonly SemaphoreSlim _slots;
    private readonly BufferPool _buffers, _frames;
    // A chunk that occurs again later in the entry (identical files, repeated blocks: 12% of the
    // .NET SDK's bytes) is fetched once: its stored frame is kept until its last occurrence has
    // been scheduled, within a memory budget (beyond it, a repeat is fetched again).
    private readonly Dictionary<string, int> _occurrencesLeft = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Task<Frame>> _sharedFrames = new(StringComparer.Ordinal);
    private long _sharedBytes;
    private const long SharedFrameBudget = 32L << 20;
    private const long MaxChunkSize = 64L << 20;
    private int _next;
    private byte[]? _current; // pooled
    private int _currentLength, _currentPos;
    private long _fetched, _fromCache;

    public ChunkReader(IObjectStore store, IReadOnlyList<ChunkRef> chunks, ChunkCache? cache, int window, Action<long>? progress, CancellationToken ct)
    {
        _store = store;
        _chunks = chunks;
        _cache = cache;
        _progress = progress;
        _cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        _slots = new SemaphoreSlim(window);
        long largest = chunks.Count == 0 ? 1 : chunks.Max(c => c.Size);
        // Chunks are at most a few MiB (FastCdc.Max); a manifest claiming more is damaged, not a reason to allocate it.
        if (largest > MaxChunkSize || chunks.Any(c => c.Size < 0))
            throw S3PodException.Integrity($"the entry lists a chunk of {largest} bytes (chunks are at most {MaxChunkSize >> 20} MiB): its manifest is damaged");
        _buffers = new BufferPool((int)Math.Max(largest, 1));
        _frames = new BufferPool(FrameLimit(largest));
        foreach (var c in chunks) _occurrencesLeft[c.Sha256] = _occurrencesLeft.GetValueOrDefault(c.Sha256) + 1;
        Fill();
    }

    /// <summary>Compressed bytes downloaded from the store so far.</summary>
    public long FetchedBytes => Interlocked.Read(ref _fetched);

    /// <summary>Uncompressed bytes taken from the local chunk cache.</summary>
    public long CachedBytes => Interlocked.Read(ref _fromCache);

    private void Fill()
    {
        while (_next < _chunks.Count && _slots.Wait(0))
        {
            var chunk = _chunks[_next++];
            var frame = FrameFor(chunk);
            _ahead.Enqueue(Task.Run(() => LoadAsync(chunk, frame)));
        }
    }

    /// <summary>The stored frame of the chunk: shared with its earlier occurrence when there is one.</summary>
    private Task<Frame> FrameFor(ChunkRef chunk)
    {
        int left = --_occurrencesLeft[chunk.Sha256];
        if (_sharedFrames.TryGetValue(chunk.Sha256, out var shared))
        {
            if (left == 0)
            {
                _sharedFrames.Remove(chunk.Sha256);
                _sharedBytes -= chunk.Stored;
            }
            return shared;
        }
        bool share = left > 0 && _sharedBytes + chunk.Stored <= SharedFrameBudget;
        var fetch = Task.Run(() => FrameAsync(chunk, pooled: !share));
        if (share)
        {
            _sharedFrames[chunk.Sha256] = fetch;
            _sharedBytes += chunk.Stored;
        }
        return fetch;
    }

    /// <summary>A stored (compressed) chunk, from the store or from the local chunk cache: the first
    /// Length bytes of Bytes, which goes back to the frame pool after decoding when Pooled.</summary>
    private sealed record Frame(byte[] Bytes, int Length, bool FromCache, bool Pooled);

    private async Task<Frame> FrameAsync(ChunkRef chunk, bool pooled)
    {
        if (_cache?.TryGetFrame(chunk) is { } cached) return new Frame(cached, cached.Length, FromCache: true, Pooled: false);
        return await FetchAsync(chunk, pooled);
    }

    private async Task<Decoded> LoadAsync(ChunkRef chunk, Task<Frame> pending)
    {
        var frame = await pending;
        try
        {
            if (!frame.FromCache) return Decode(chunk, frame.Bytes.AsSpan(0, frame.Length), _buffers);
            try
            {
                var data = Decode(chunk, frame.Bytes, _buffers);
                Interlocked.Add(ref _fromCache, chunk.Size);
                return data;
            }
            catch (S3PodException)
            {
                // A damaged cache file costs a download, never the restore.
                _cache!.Drop(chunk);
                frame = await FetchAsync(chunk, pooled: true);
                return Decode(chunk, frame.Bytes.AsSpan(0, frame.Length), _buffers);
            }
        }
        finally
        {
            if (frame.Pooled) _frames.Return(frame.Bytes);
        }
    }

    /// <summary>The most a stored frame of a chunk of <paramref name="size"/> bytes can be: more is damage, not a reason to read on.</summary>
    private static int FrameLimit(long size) => Archive.ZstdEncoder.FrameBound((int)Math.Min(size, int.MaxValue)) + (1 << 16);

    private async Task<Frame> FetchAsync(ChunkRef chunk, bool pooled)
    {
        var stored = await _store.ReadWholeAsync(ChunkLayout.Chunk(chunk.Sha256), FrameLimit(chunk.Size), _cts.Token, pooled ? _ => _frames.Rent() : null)
            ?? throw new ChunkMissingException(chunk.Sha256);
        var bytes = stored.Content ?? throw S3PodException.Integrity($"chunk {chunk.Sha256} is corrupt (stored size {stored.Info.Size})");
        int length = (int)stored.Info.Size;
        Interlocked.Add(ref _fetched, length);
        _cache?.Put(chunk, bytes.AsSpan(0, length));
        return new Frame(bytes, length, FromCache: false, Pooled: pooled);
    }

    /// <summary>A decoded chunk: the first Length bytes of a pooled buffer.</summary>
    internal readonly record struct Decoded(byte[] Data, int Length);

    /// <summary>Decompresses and verifies a stored frame against the chunk's size and digest.</summary>
    internal static Decoded Decode(ChunkRef chunk, ReadOnlySpan<byte> frame, BufferPool buffers)
    {
        int size = checked((int)chunk.Size);
        var data = buffers.Rent();
        try
        {
            int n;
            try
            {
                n = Archive.ZstdEncoder.DecompressFrame(frame, data.AsSpan(0, size));
            }
            catch (InvalidDataException e)
            {
                throw S3PodException.Integrity($"chunk {chunk.Sha256} is corrupt ({e.Message})");
            }
            Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(data.AsSpan(0, n), digest);
            if (n != size || !Convert.ToHexStringLower(digest).Equals(chunk.Sha256, StringComparison.Ordinal))
                throw S3PodException.Integrity($"chunk {chunk.Sha256} is corrupt (its content does not match its digest)");
            return new Decoded(data, size);
        }
        catch
        {
            buffers.Return(data);
            throw;
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        while (_current is null || _currentPos == _currentLength)
        {
            if (_ahead.Count == 0) return 0;
            var next = _ahead.Dequeue();
            ReleaseCurrent();
            Decoded decoded;
            try
            {
                decoded = await next.WaitAsync(ct);
            }
            catch
            {
                _cts.Cancel();
                throw;
            }
            _current = decoded.Data;
            _currentLength = decoded.Length;
            _currentPos = 0;
            _slots.Release();
            Fill();
            _progress?.Invoke(FetchedBytes);
        }
        int n = Math.Min(buffer.Length, _currentLength - _currentPos);
        _current.AsMemory(_currentPos, n).CopyTo(buffer);
        _currentPos += n;
        return n;
    }

    private void ReleaseCurrent()
    {
        if (_current is not null) _buffers.Return(_current);
        _current = null;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            ReleaseCurrent();
            _cts.Cancel();
            // Fetches still running end on the cancellation; their results are dropped.
            foreach (var t in _ahead) t.ContinueWith(static _ => { }, TaskScheduler.Default);
        }
        base.Dispose(disposing);
    }

    public override void Flush() { }
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
