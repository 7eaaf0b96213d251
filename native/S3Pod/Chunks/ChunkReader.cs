using System.Security.Cryptography;
using S3Pod.Storage;
using ZstdSharp;

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
    private readonly Queue<Task<byte[]>> _ahead = new();
    private readonly SemaphoreSlim _slots;
    private int _next;
    private byte[]? _current;
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
            _ahead.Enqueue(Task.Run(() => FetchAsync(chunk)));
        }
    }

    private async Task<byte[]> FetchAsync(ChunkRef chunk)
    {
        var ct = _cts.Token;
        if (_cache?.TryGet(chunk) is { } cached)
        {
            Interlocked.Add(ref _fromCache, chunk.Size);
            return cached;
        }
        byte[] frame;
        await using (var opened = await _store.OpenReadAsync(ChunkLayout.Chunk(chunk.Sha256), ReadOptions.Default, ct) ?? throw new ChunkMissingException(chunk.Sha256))
        {
            // A stored frame larger than the manifest says is damage, not a reason to read on.
            long limit = Math.Max(chunk.Stored, opened.Info.Size);
            if (opened.Info.Size > int.MaxValue || limit > Archive.ZstdEncoder.FrameBound((int)Math.Min(chunk.Size, int.MaxValue)) + (1 << 16))
                throw S3PodException.Integrity($"chunk {chunk.Sha256} is corrupt (stored size {opened.Info.Size})");
            frame = new byte[opened.Info.Size];
            await opened.Content.ReadExactlyAsync(frame, ct);
        }
        Interlocked.Add(ref _fetched, frame.Length);
        var data = Decode(chunk, frame);
        _cache?.Put(chunk, frame);
        return data;
    }

    internal static byte[] Decode(ChunkRef chunk, byte[] frame)
    {
        var data = new byte[chunk.Size];
        int n;
        try
        {
            using var decompressor = new Decompressor();
            n = decompressor.Unwrap(frame, data);
        }
        catch (Exception e) when (e is ZstdException or ArgumentException or InvalidOperationException)
        {
            throw S3PodException.Integrity($"chunk {chunk.Sha256} is corrupt ({e.Message})");
        }
        if (n != chunk.Size || !Convert.ToHexStringLower(SHA256.HashData(data)).Equals(chunk.Sha256, StringComparison.Ordinal))
            throw S3PodException.Integrity($"chunk {chunk.Sha256} is corrupt (its content does not match its digest)");
        return data;
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        while (_current is null || _currentPos == _currentLength)
        {
            if (_ahead.Count == 0) return 0;
            var next = _ahead.Dequeue();
            try
            {
                _current = await next.WaitAsync(ct);
            }
            catch
            {
                _cts.Cancel();
                throw;
            }
            _currentLength = _current.Length;
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

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
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
