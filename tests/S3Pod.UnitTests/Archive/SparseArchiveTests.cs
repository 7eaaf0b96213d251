using S3Pod.Commands;
using System.Formats.Tar;
using System.Text;
using S3Pod.Archive;
using static S3Pod.UnitTests.Archive.ArchiveTestSupport;

namespace S3Pod.UnitTests.Archive;

/// <summary>
/// GNU tar's sparse files (issue 9, defect 7): real `tar -S` archives of a file with holes, in every
/// format GNU tar writes. PAX 0.1 and 1.0 restore byte-exact with their holes; 0.0 and the old GNU
/// 'S' type are refused with exit 5 naming the entry. Never wrong data with exit 0.
/// </summary>
[Trait("Requires", "gnu-tar")]
public class SparseArchiveTests
{
    private const long SparseSize = 10 * 1024 * 1024;

    /// <summary>A 10 MiB file that is mostly holes, with data at 3 MB and near the end, and a plain file.</summary>
    private static void MakeSparseTree(string src)
    {
        Directory.CreateDirectory(src);
        Sh($"cd '{src}' && truncate -s {SparseSize} big && printf hello | dd of=big bs=1 seek=3000000 conv=notrunc status=none " +
           $"&& printf tail | dd of=big bs=1 seek=10000000 conv=notrunc status=none && printf small > plain.txt");
    }

    private static byte[] GnuTar(string src, string options) =>
        System.IO.File.ReadAllBytes(TarTo(src, options));

    private static string TarTo(string src, string options)
    {
        string output = src + "-" + Guid.NewGuid().ToString("N")[..6] + ".tar.zst";
        Sh($"cd '{src}' && tar {options} -cf - big plain.txt | zstd -q -c > '{output}'");
        return output;
    }

    public static TheoryData<string, string> Restorable()
    {
        var data = new TheoryData<string, string>();
        foreach (string format in new[] { "--posix -S --sparse-version=0.1", "--posix -S --sparse-version=1.0", "--posix -S" })
            foreach (string fs in FileSystemNames()) data.Add(format, fs);
        return data;
    }

    [Theory]
    [MemberData(nameof(Restorable))]
    public async Task PaxSparse_IsRestoredByteExact_WithItsHoles(string tarOptions, string fsName)
    {
        Assert.True(HaveTools(), "zstd and GNU tar are needed");
        using var t = new TempDir();
        MakeSparseTree(t.Sub("src"));
        var archive = GnuTar(t.Sub("src"), tarOptions);

        var stats = await TarZstd.UnpackDirectoryAsync(Fs(fsName), new MemoryStream(archive), t.Sub("dst"), CancellationToken.None);

        Assert.Equal(new[] { "big", "plain.txt" }, Directory.GetFileSystemEntries(t.Sub("dst")).Select(Path.GetFileName).Order());
        Sh($"cmp '{t.Sub("src/big")}' '{t.Sub("dst/big")}' && cmp '{t.Sub("src/plain.txt")}' '{t.Sub("dst/plain.txt")}'");
        Assert.Equal(SparseSize, new FileInfo(t.Sub("dst/big")).Length);
        Assert.Equal(SparseSize + 5, stats.UncompressedBytes);
        // Holes stay holes: a few blocks allocated, not 10 MiB.
        long allocatedKiB = long.Parse(Sh($"du -k '{t.Sub("dst/big")}' | cut -f1").Trim());
        Assert.True(allocatedKiB < 1024, $"{allocatedKiB} KiB allocated for a file that is mostly holes");
        Assert.Equal(Snapshot(t.Sub("src"))["big"].Split(' ')[1], Snapshot(t.Sub("dst"))["big"].Split(' ')[1]); // mode
    }

    public static TheoryData<string, string> Refused()
    {
        var data = new TheoryData<string, string>();
        foreach (string format in new[] { "--posix -S --sparse-version=0.0", "--format=gnu -S" })
            foreach (string fs in FileSystemNames()) data.Add(format, fs);
        return data;
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task SparseFormatsTarReaderCannotRead_AreRefusedWithExit5_NamingTheEntry(string tarOptions, string fsName)
    {
        Assert.True(HaveTools(), "zstd and GNU tar are needed");
        using var t = new TempDir();
        MakeSparseTree(t.Sub("src"));
        var archive = GnuTar(t.Sub("src"), tarOptions);
        WriteFile(t.Sub("dst/keep.txt"), "keep");
        var before = Snapshot(t.Sub("dst"), includeRoot: true);

        var e = await Assert.ThrowsAsync<S3PodException>(() =>
            TarZstd.UnpackDirectoryAsync(Fs(fsName), new MemoryStream(archive), t.Sub("dst"), CancellationToken.None));

        Assert.Equal(ExitCodes.Integrity, ExitCodes.For(e.Kind));
        Assert.Contains("big", e.Message);
        Assert.Contains("sparse", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        AssertSameTree(before, Snapshot(t.Sub("dst"), includeRoot: true));
    }

    private static byte[] SparseEntry(IEnumerable<KeyValuePair<string, string>> keys, byte[] data, string name = "GNUSparseFile.1/f")
    {
        var ms = new MemoryStream();
        using (var w = new TarWriter(ms, TarEntryFormat.Pax, leaveOpen: true))
        {
            w.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name, keys) { DataStream = new MemoryStream(data) });
        }
        return Zstd(ms.ToArray());
    }

    private static KeyValuePair<string, string> Key(string k, string v) => new(k, v);

    private static byte[] Map10(string map) // a format 1.0 map block followed by the data
    {
        var block = new byte[512];
        Encoding.ASCII.GetBytes(map).CopyTo(block, 0);
        return [.. block, .. "0123456789"u8.ToArray()];
    }

    public static TheoryData<string> BadMaps() => new(
        "0.1-region-past-the-end", "0.1-overlap", "0.1-more-data-than-map", "0.1-not-numbers", "1.0-map-claims-more",
        "1.0-garbage-map", "1.0-cut-inside-map", "unknown-version", "no-name");

    [Theory]
    [MemberData(nameof(BadMaps))]
    public async Task HostileSparseMap_IsExit5_AndWritesNothing(string kind)
    {
        using var t = new TempDir();
        var keys01 = new[] { Key("GNU.sparse.name", "f"), Key("GNU.sparse.size", "100") };
        var keys10 = new[] { Key("GNU.sparse.major", "1"), Key("GNU.sparse.minor", "0"), Key("GNU.sparse.name", "f"), Key("GNU.sparse.realsize", "100") };
        byte[] archive = kind switch
        {
            "0.1-region-past-the-end" => SparseEntry([.. keys01, Key("GNU.sparse.map", "95,10")], new byte[10]),
            "0.1-overlap" => SparseEntry([.. keys01, Key("GNU.sparse.map", "0,10,5,10")], new byte[20]),
            "0.1-more-data-than-map" => SparseEntry([.. keys01, Key("GNU.sparse.map", "0,5")], new byte[10]),
            "0.1-not-numbers" => SparseEntry([.. keys01, Key("GNU.sparse.map", "0,-5")], new byte[10]),
            "1.0-map-claims-more" => SparseEntry(keys10, Map10("1\n0\n50\n")),
            "1.0-garbage-map" => SparseEntry(keys10, Map10("1\n0\nten\n")),
            "1.0-cut-inside-map" => SparseEntry(keys10, "1\n0\n"u8.ToArray()),
            "unknown-version" => SparseEntry([Key("GNU.sparse.major", "2"), Key("GNU.sparse.minor", "0"), Key("GNU.sparse.name", "f"), Key("GNU.sparse.realsize", "100")], new byte[10]),
            "no-name" => SparseEntry([Key("GNU.sparse.major", "1"), Key("GNU.sparse.minor", "0"), Key("GNU.sparse.realsize", "100")], Map10("1\n0\n10\n")),
            _ => throw new ArgumentException(kind),
        };
        foreach (string fsName in FileSystemNames())
        {
            string dest = t.Sub("dst-" + fsName);
            var e = await Assert.ThrowsAsync<S3PodException>(() =>
                TarZstd.UnpackDirectoryAsync(Fs(fsName), new MemoryStream(archive), dest, CancellationToken.None));
            Assert.Equal(ExitCodes.Integrity, ExitCodes.For(e.Kind));
            Assert.Contains("sparse", e.Message);
            Assert.False(Directory.Exists(dest) && Directory.EnumerateFileSystemEntries(dest).Any());
        }
    }

    [Fact]
    public async Task Sparse10_HandMadeMap_PlacesRegionsAtTheirOffsets()
    {
        using var t = new TempDir();
        var keys = new[] { Key("GNU.sparse.major", "1"), Key("GNU.sparse.minor", "0"), Key("GNU.sparse.name", "dir/f"), Key("GNU.sparse.realsize", "100") };
        var archive = SparseEntry(keys, Map10("2\n10\n4\n90\n6\n"));
        await TarZstd.UnpackDirectoryAsync(Default, new MemoryStream(archive), t.Sub("dst"), CancellationToken.None);
        var bytes = System.IO.File.ReadAllBytes(t.Sub("dst/dir/f"));
        var expected = new byte[100];
        "0123"u8.CopyTo(expected.AsSpan(10));
        "456789"u8.CopyTo(expected.AsSpan(90));
        Assert.Equal(expected, bytes);
    }
}
