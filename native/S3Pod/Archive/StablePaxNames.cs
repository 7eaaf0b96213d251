using System.Text;

namespace S3Pod.Archive;

/// <summary>
/// Makes a tar stream from .NET's TarWriter reproducible: it names every PAX extended header
/// <c>./PaxHeaders.&lt;process id&gt;/…</c>, so two packs of one unchanged tree differ in every
/// header, and content-defined chunks holding headers never repeat. This filter follows the tar
/// structure (512-byte headers, data rounded up to blocks, PAX <c>size</c> records) and rewrites
/// those names to <c>./PaxHeaders.0/…</c>, fixing the header checksum. Readers ignore the name.
/// </summary>
internal sealed class StablePaxNames(Stream inner) : WriteOnlyStream
{
    private readonly byte[] _header = new byte[512];
    private int _headerLength;
    private long _skip;
    private long? _paxSize; // a PAX size record applies to the next header's data
    private MemoryStream? _paxData; // an 'x' header's records, gathered to read its size record
    private long _paxRemaining, _paxPadding;

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> data)
    {
        while (data.Length > 0)
        {
            if (_paxData is not null)
            {
                int n = (int)Math.Min(_paxRemaining, data.Length);
                _paxData.Write(data[..n]);
                inner.Write(data[..n]);
                _paxRemaining -= n;
                data = data[n..];
                if (_paxRemaining == 0)
                {
                    _paxSize = SizeRecord(_paxData.ToArray());
                    _paxData = null;
                    _skip = _paxPadding;
                }
                continue;
            }
            if (_skip > 0)
            {
                int n = (int)Math.Min(_skip, data.Length);
                inner.Write(data[..n]);
                _skip -= n;
                data = data[n..];
                continue;
            }
            int take = Math.Min(512 - _headerLength, data.Length);
            data[..take].CopyTo(_header.AsSpan(_headerLength));
            _headerLength += take;
            data = data[take..];
            if (_headerLength < 512) continue;
            _headerLength = 0;
            Header();
        }
    }

    private void Header()
    {
        if (Array.TrueForAll(_header, b => b == 0))
        {
            inner.Write(_header);
            return;
        }
        byte type = _header[156];
        long size = Octal(_header.AsSpan(124, 12));
        if (type is (byte)'x' or (byte)'g')
        {
            var name = Encoding.ASCII.GetString(_header, 0, 100).TrimEnd('\0');
            const string prefix = "./PaxHeaders.";
            int slash = name.IndexOf('/', prefix.Length);
            if (name.StartsWith(prefix, StringComparison.Ordinal) && slash > 0)
            {
                var stable = Encoding.ASCII.GetBytes(prefix + "0" + name[slash..]);
                Array.Clear(_header, 0, 100);
                stable.CopyTo(_header, 0);
                Checksum();
            }
            inner.Write(_header);
            if (type == (byte)'x' && size > 0 && size < (1 << 20))
            {
                _paxData = new MemoryStream();
                _paxRemaining = size;
                _paxPadding = (512 - size % 512) % 512;
                return;
            }
            _skip = Blocks(size);
            return;
        }
        inner.Write(_header);
        if (_paxSize is { } paxSize) size = paxSize;
        _paxSize = null;
        // Entries without data in the archive (links, directories) carry size 0.
        _skip = type is (byte)'0' or 0 or (byte)'7' or (byte)'S' ? Blocks(size) : type is (byte)'1' or (byte)'2' or (byte)'5' or (byte)'3' or (byte)'4' or (byte)'6' ? 0 : Blocks(size);
    }

    private static long Blocks(long size) => (size + 511) / 512 * 512;

    private void Checksum()
    {
        for (int i = 148; i < 156; i++) _header[i] = (byte)' ';
        long sum = 0;
        foreach (var b in _header) sum += b;
        var text = Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0'));
        text.CopyTo(_header, 148);
        _header[154] = 0;
        _header[155] = (byte)' ';
    }

    private static long Octal(ReadOnlySpan<byte> field)
    {
        if ((field[0] & 0x80) != 0)
        {
            long v = 0;
            for (int i = 1; i < field.Length; i++) v = (v << 8) | field[i];
            return v;
        }
        long n = 0;
        foreach (var b in field)
        {
            if (b is >= (byte)'0' and <= (byte)'7') n = n * 8 + (b - '0');
            else if (n > 0 || b == 0) { if (b is 0 or (byte)' ') break; }
        }
        return n;
    }

    /// <summary>The value of a PAX <c>size</c> record ("NN size=123\n"), or null.</summary>
    private static long? SizeRecord(byte[] records)
    {
        foreach (var line in Encoding.UTF8.GetString(records).Split('\n'))
        {
            int space = line.IndexOf(' ');
            if (space > 0 && line.AsSpan(space + 1).StartsWith("size=") && long.TryParse(line.AsSpan(space + 6), out var v)) return v;
        }
        return null;
    }

    public override void Flush() => inner.Flush();
}
