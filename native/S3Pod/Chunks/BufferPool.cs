using System.Collections.Concurrent;

namespace S3Pod.Chunks;

/// <summary>
/// Buffers of one size for the chunk pipeline, owned by one writer or reader and dropped with it.
/// The shared ArrayPool keeps returned arrays per size class, per core and per thread, and chunk
/// sizes spread over four size classes; here the count of buffers is the pipeline's depth,
/// whatever thread returns them. Buffers are not zeroed: the OS
/// commits a fresh buffer's pages only as they are written, so a short chunk costs its length.
/// </summary>
internal sealed class BufferPool(int size)
{
    private readonly ConcurrentBag<byte[]> _free = new();

    public int Size { get; } = size;

    public byte[] Rent() => _free.TryTake(out var buffer) ? buffer : GC.AllocateUninitializedArray<byte>(Size);

    public void Return(byte[] buffer)
    {
        if (buffer.Length == Size) _free.Add(buffer);
    }
}
