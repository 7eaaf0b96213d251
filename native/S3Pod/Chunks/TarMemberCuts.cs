using System.Buffers.Binary;

namespace S3Pod.Chunks;

/// <summary>
/// Passes a tar stream (an image export: one member per layer) to a <see cref="ChunkWriter"/>
/// unchanged, and ends a chunk where each large member's content starts and where it ends. A layer
/// two images share then chunks exactly alike in both, whatever the small members (names, image
/// configs) around it: without the cuts, the chunks that straddle a layer's edges differ, which
/// cost up to two maximum-size chunks per shared layer. The headers are only read to find the
/// edges: a stream that is not tar (a bad checksum) is passed on with no cuts at all.
/// </summary>
internal sealed class TarMemberCuts(ChunkWriter writer, long largeMember = 1 << 20) : Archive.WriteOnlyStream
{
    private const int Block = 512;
    private readonly byte[] _header = new byte[Block];
    private int _headerFilled;
    private long _contentLeft; // content and padding of the current member still to pass
    private bool _inLargeMember;
    private bool _tracking = true;

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> data)
    {
        while (data.Length > 0)
        {
            if (!_tracking)
            {
                writer.Write(data);
                return;
            }
            if (_contentLeft > 0)
            {
                int n = (int)Math.Min(_contentLeft, data.Length);
                writer.Write(data[..n]);
                data = data[n..];
                _contentLeft -= n;
                if (_contentLeft == 0 && _inLargeMember)
                {
                    writer.Cut();
                    _inLargeMember = false;
                }
                continue;
            }
            int take = Math.Min(Block - _headerFilled, data.Length);
            data[..take].CopyTo(_header.AsSpan(_headerFilled));
            _headerFilled += take;
            data = data[take..];
            if (_headerFilled < Block) continue;
            _headerFilled = 0;
            writer.Write(_header);
            if (_header.AsSpan().IndexOfAnyExcept((byte)0) < 0) continue; // end-of-archive blocks
            if (ContentSize(_header) is not { } size)
            {
                _tracking = false;
                continue;
            }
            _contentLeft = (size + Block - 1) / Block * Block;
            if (_contentLeft >= largeMember)
            {
                writer.Cut();
                _inLargeMember = true;
            }
        }
    }

    /// <summary>The member's content size, or null when the block is not a valid tar header.</summary>
    internal static long? ContentSize(ReadOnlySpan<byte> header)
    {
        long sum = 0;
        for (int i = 0; i < Block; i++) sum += i is >= 148 and < 156 ? (byte)' ' : header[i];
        if (ParseOctal(header.Slice(148, 8)) != sum) return null;
        var size = header.Slice(124, 12);
        if ((size[0] & 0x80) != 0)
            return BinaryPrimitives.ReadInt64BigEndian(size[4..]) is var big and >= 0 ? big : null; // base-256 (GNU, > 8 GiB)
        return ParseOctal(size);
    }

    private static long? ParseOctal(ReadOnlySpan<byte> field)
    {
        long value = 0;
        bool digits = false;
        foreach (var b in field)
        {
            if (b is (byte)' ' or 0) { if (digits) break; continue; }
            if (b is < (byte)'0' or > (byte)'7') return null;
            value = value * 8 + (b - '0');
            digits = true;
        }
        return digits ? value : null;
    }
}
