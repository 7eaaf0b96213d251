namespace S3Pod.Archive;

/// <summary>The parts every write-only, forward-only stream of the project answers alike: it cannot
/// be read, sought or measured. Subclasses write, and flush when they have something to flush.</summary>
internal abstract class WriteOnlyStream : Stream
{
    public override void Flush() { }
    public sealed override bool CanRead => false;
    public sealed override bool CanSeek => false;
    public sealed override bool CanWrite => true;
    public sealed override long Length => throw new NotSupportedException();
    public sealed override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public sealed override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public sealed override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public sealed override void SetLength(long value) => throw new NotSupportedException();
}
