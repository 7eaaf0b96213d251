using System.Formats.Tar;
using System.Text;
using S3Pod.Archive;
using S3Pod.UnitTests.Archive;
using static S3Pod.UnitTests.Archive.ArchiveTestSupport;

namespace S3Pod.UnitTests.Artifacts;

/// <summary>
/// The archive layer's entry filter (artifact <c>[sub/path]</c> pulls): entries outside are skipped,
/// never refused, and every rule that refuses a whole archive still applies to them.
/// </summary>
[Trait("Requires", "unix")]
public class ArchiveSubPathTests
{
    private static PaxTarEntry File(string name, string content) =>
        new(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)) };

    private static byte[] TarZst(params TarEntry[] entries)
    {
        var ms = new MemoryStream();
        using (var w = new TarWriter(ms, TarEntryFormat.Pax, leaveOpen: true))
            foreach (var e in entries) w.WriteEntry(e);
        return Zstd(ms.ToArray());
    }

    private static Task<ArchiveStats> Unpack(byte[] archive, string dest, string sub) =>
        TarZstd.UnpackAsync(Default, new MemoryStream(archive), name => (dest, name), default,
            include: name => name == sub || name.StartsWith(sub + "/", StringComparison.Ordinal));

    [Fact]
    public async Task OnlyTheSubPathIsExtracted()
    {
        using var temp = new TempDir();
        var dest = temp.Sub("dest");
        var stats = await Unpack(TarZst(File("a.txt", "A"), File("w/big.bin", "BIG"), File("w/sub/x", "X"), File("wz", "not w")), dest, "w");
        Assert.Equal(2, stats.Files);
        Assert.Equal(["w/big.bin", "w/sub/x"], Directory.GetFiles(dest, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(dest, p)).Order());
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("/etc/evil")]
    public async Task UnsafeNamesOutsideTheSubPath_StillRefuseTheArchive(string name)
    {
        using var temp = new TempDir();
        var dest = temp.Sub("dest");
        var e = await Assert.ThrowsAsync<S3PodException>(() => Unpack(TarZst(File("w/ok", "ok"), File(name, "evil")), dest, "w"));
        Assert.Equal(FailureKind.Integrity, e.Kind);
        Assert.False(Directory.Exists(Path.Combine(dest, "w")));
    }

    [Fact]
    public async Task DevicesOutsideTheSubPath_StillRefuseTheArchive()
    {
        using var temp = new TempDir();
        var dest = temp.Sub("dest");
        var device = new PaxTarEntry(TarEntryType.CharacterDevice, "dev/null") { DeviceMajor = 1, DeviceMinor = 3 };
        var e = await Assert.ThrowsAsync<S3PodException>(() => Unpack(TarZst(File("w/ok", "ok"), device), dest, "w"));
        Assert.Equal(FailureKind.Integrity, e.Kind);
    }

    [Fact]
    public async Task AHardLinkToAnEntryOutside_FailsNamingBoth()
    {
        using var temp = new TempDir();
        var dest = temp.Sub("dest");
        var link = new PaxTarEntry(TarEntryType.HardLink, "w/link") { LinkName = "other/file" };
        var e = await Assert.ThrowsAsync<S3PodException>(() => Unpack(TarZst(File("other/file", "data"), link), dest, "w"));
        Assert.Equal(FailureKind.Operational, e.Kind);
        Assert.Contains("'w/link'", e.Message);
        Assert.Contains("'other/file'", e.Message);
        Assert.False(Directory.Exists(Path.Combine(dest, "w")));
    }
}
