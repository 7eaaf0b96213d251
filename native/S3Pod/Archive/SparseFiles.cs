using System.Formats.Tar;
using System.Globalization;

namespace S3Pod.Archive;

/// <summary>One stretch of real data in a sparse file: everything between stretches is a hole (zeros).</summary>
internal readonly record struct SparseRegion(long Offset, long Length);

/// <summary>
/// A GNU sparse file inside a PAX archive (`tar --posix -S`), which System.Formats.Tar hands over as
/// a regular file named GNUSparseFile.N/name whose data holds only the non-hole regions:
/// <list type="bullet">
/// <item>format 1.0 (GNU tar's default): keys GNU.sparse.major/minor/name/realsize; the map is at
/// the start of the data, decimal numbers one per line (count, then offset and length pairs),
/// padded to a 512-byte block;</item>
/// <item>format 0.1: keys GNU.sparse.name/size and GNU.sparse.map "offset,length,offset,length...".</item>
/// </list>
/// Format 0.0 repeats GNU.sparse.offset/numbytes keys, which TarReader rejects before the entry is
/// seen, and the old GNU 'S' type is not read by TarReader at all: both are refused by TarUnpacker.
/// </summary>
internal sealed class SparseFile
{
    // Bounds a hostile map can not push past: more regions than this is no real file.
    private const int MaxRegions = 1_000_000;
    private const int MaxNumberDigits = 20;

    private IReadOnlyList<SparseRegion>? _map;

    private SparseFile(string name, long realSize, string version, IReadOnlyList<SparseRegion>? map)
    {
        Name = name;
        RealSize = realSize;
        Version = version;
        _map = map;
    }

    /// <summary>The file's real name (the header's is GNUSparseFile.N/name).</summary>
    public string Name { get; }

    /// <summary>The size the restored file must have, holes included.</summary>
    public long RealSize { get; }

    /// <summary>"0.1" or "1.0".</summary>
    public string Version { get; }

    /// <summary>
    /// The sparse description of <paramref name="entry"/>, or null for an ordinary entry. Throws exit 5
    /// for a sparse format s3pod does not know or a malformed description.
    /// </summary>
    public static SparseFile? Describe(TarEntry entry)
    {
        if (entry is not PaxTarEntry pax) return null;
        var ea = pax.ExtendedAttributes;
        if (!ea.Keys.Any(k => k.StartsWith("GNU.sparse.", StringComparison.Ordinal))) return null;
        string shownName = ea.TryGetValue("GNU.sparse.name", out var n) && n.Length > 0 ? n : entry.Name;
        if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
            throw Invalid(shownName, "GNU sparse keys on an entry that is not a regular file");
        if (!ea.TryGetValue("GNU.sparse.name", out var name) || name.Length == 0)
            throw Invalid(shownName, "GNU sparse file without GNU.sparse.name");

        if (ea.TryGetValue("GNU.sparse.major", out var major))
        {
            ea.TryGetValue("GNU.sparse.minor", out var minor);
            if (major != "1" || minor != "0")
                throw Unsupported(name, $"GNU sparse format {major}.{minor}");
            return new SparseFile(name, Number(ea, "GNU.sparse.realsize", name), "1.0", null);
        }
        if (ea.TryGetValue("GNU.sparse.map", out var mapText))
        {
            var parts = mapText.Length == 0 ? [] : mapText.Split(',');
            if (parts.Length % 2 != 0 || parts.Length / 2 > MaxRegions) throw Invalid(name, "GNU.sparse.map has an odd or huge number of fields");
            var map = new List<SparseRegion>(parts.Length / 2);
            for (int i = 0; i < parts.Length; i += 2)
                map.Add(new SparseRegion(Parse(parts[i], name), Parse(parts[i + 1], name)));
            return new SparseFile(name, Number(ea, "GNU.sparse.size", name), "0.1", map);
        }
        throw Unsupported(name, "GNU sparse format 0.0");
    }

    /// <summary>
    /// The regions, checked against the real size and the stored data: ascending, not overlapping,
    /// inside the file, adding up to exactly the data that follows. For format 1.0 the map is read
    /// from the front of <paramref name="data"/>, which is left at the first region's bytes.
    /// </summary>
    public IReadOnlyList<SparseRegion> ReadMap(Stream data, long storedLength)
    {
        long mapBytes = 0;
        if (_map is null)
        {
            var reader = new MapReader(data, Name);
            long count = reader.Next();
            if (count > MaxRegions) throw Invalid(Name, "sparse map has too many regions");
            var map = new List<SparseRegion>((int)count);
            for (long i = 0; i < count; i++) map.Add(new SparseRegion(reader.Next(), reader.Next()));
            mapBytes = reader.SkipToBlockEnd();
            _map = map;
        }
        long end = 0, total = 0;
        foreach (var r in _map)
        {
            if (r.Offset < end || r.Length < 0 || r.Offset > RealSize - r.Length)
                throw Invalid(Name, "sparse map regions overlap or lie outside the file");
            end = r.Offset + r.Length;
            total += r.Length;
        }
        if (total != storedLength - mapBytes)
            throw Invalid(Name, $"sparse map describes {total} bytes but the entry stores {storedLength - mapBytes}");
        return _map;
    }

    private static long Number(IReadOnlyDictionary<string, string> ea, string key, string name) =>
        ea.TryGetValue(key, out var v) ? Parse(v, name) : throw Invalid(name, $"GNU sparse file without {key}");

    private static long Parse(string text, string name) =>
        text.Length is > 0 and <= MaxNumberDigits && text.All(char.IsAsciiDigit)
            && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long v)
            ? v : throw Invalid(name, $"bad number '{EntryNames.Quote(text)}' in its sparse map");

    private static S3PodException Invalid(string name, string why) =>
        S3PodException.Integrity($"archive is truncated or corrupt (sparse entry {EntryNames.Quote(name)}: {why})");

    /// <summary>Refusal for a sparse format that cannot be restored: exit 5, naming the entry and the way out.</summary>
    public static S3PodException Unsupported(string name, string format) =>
        S3PodException.Integrity($"refusing archive entry {EntryNames.Quote(name)}: it is a {format} file, which s3pod cannot restore " +
            "(create the archive with `tar --posix -S` (sparse format 1.0) or without -S)");

    /// <summary>Reads the decimal, newline-terminated numbers of a format 1.0 map, a byte at a time from 512-byte blocks.</summary>
    private sealed class MapReader(Stream data, string name)
    {
        private readonly byte[] _block = new byte[512];
        private int _pos = 512, _len = 512;
        private long _consumed;

        public long Next()
        {
            long value = 0;
            int digits = 0;
            while (true)
            {
                if (_pos == _len) Fill();
                byte b = _block[_pos++];
                if (b == '\n' && digits > 0) return value;
                if (b is < (byte)'0' or > (byte)'9' || ++digits > MaxNumberDigits || value > (long.MaxValue - 9) / 10)
                    throw Invalid(name, "its sparse map is not a list of decimal numbers");
                value = value * 10 + (b - '0');
            }
        }

        /// <summary>The map's blocks end with padding; returns how many bytes the map took.</summary>
        public long SkipToBlockEnd()
        {
            _pos = _len;
            return _consumed;
        }

        private void Fill()
        {
            int got = data.ReadAtLeast(_block, 512, throwOnEndOfStream: false);
            if (got < 512) throw S3PodException.Integrity($"archive is truncated or corrupt (sparse entry {EntryNames.Quote(name)} ends inside its map)");
            _pos = 0;
            _consumed += 512;
        }
    }
}
