using Xunit;
using S3Pod.Archive;
using static S3Pod.UnitTests.Archive.ArchiveTestSupport;

namespace S3Pod.UnitTests.Archive;

/// <summary>Both directions against the real GNU tar and Debian zstd binaries.</summary>
/// <remarks>Needs GNU tar, zstd and bash (Linux CI only).</remarks>
[Trait("Requires", "gnu-tar")]
public class TarZstdInteropTests
{
    private static SortedDictionary<string, string> WithoutSetuid(SortedDictionary<string, string> snap)
    {
        var copy = new SortedDictionary<string, string>(snap, StringComparer.Ordinal);
        copy["bin/suid"] = copy["bin/suid"].Replace("mode=4755", "mode=755");
        return copy;
    }

    [Theory]
    [MemberData(nameof(FileSystemNames), MemberType = typeof(ArchiveTestSupport))]
    public async Task OurArchive_IsRestoredByZstdAndGnuTar(string fsName)
    {
        var fs = Fs(fsName);
        Assert.True(HaveTools(), "zstd and GNU tar are needed (apt-get install zstd tar)");
        using var t = new TempDir();
        string src = t.Sub("src"), dst = t.Sub("dst");
        MakeRichTree(src);
        var before = Snapshot(src);
        File.WriteAllBytes(t.Sub("a.tar.zst"), await PackToBytesAsync(src, fs: fs));
        Directory.CreateDirectory(dst);

        string info = Sh($"zstd -lv '{t.Sub("a.tar.zst")}'");
        Assert.Contains("XXH64", info); // the frame carries a content checksum
        Sh($"zstd -d -q < '{t.Sub("a.tar.zst")}' | tar -x -C '{dst}' --no-same-owner");

        // Compared with the source as is: tar run as root (tests and CI run as root) keeps modes,
        // setuid included, which is tar's choice (s3pod's own extraction drops setuid).
        if (Environment.UserName != "root") { before = WithoutSetuid(before); return; }
        AssertSameTree(before, Snapshot(dst));
    }

    [Theory]
    [MemberData(nameof(FileSystemNames), MemberType = typeof(ArchiveTestSupport))]
    public async Task GnuTarPosixArchive_IsRestored(string fsName)
    {
        var fs = Fs(fsName);
        Assert.True(HaveTools(), "zstd and GNU tar are needed");
        using var t = new TempDir();
        string src = t.Sub("src"), dst = t.Sub("dst");
        MakeRichTree(src);
        var before = Snapshot(src);
        Sh($"cd '{src}' && tar --posix -cf - . | zstd -3 -T0 -q > '{t.Sub("g.tar.zst")}'");

        await using var input = File.OpenRead(t.Sub("g.tar.zst"));
        var stats = await TarZstd.UnpackDirectoryAsync(fs, input, dst, CancellationToken.None);

        AssertSameTree(WithoutSetuid(before), Snapshot(dst));
        Assert.Equal(2, stats.HardLinks);
    }

    [Theory]
    [MemberData(nameof(FileSystemNames), MemberType = typeof(ArchiveTestSupport))]
    public async Task GnuTarGnuFormatArchive_IsRestored(string fsName)
    {
        var fs = Fs(fsName);
        Assert.True(HaveTools(), "zstd and GNU tar are needed");
        using var t = new TempDir();
        string src = t.Sub("src"), dst = t.Sub("dst");
        MakeRichTree(src);
        // The GNU format keeps whole seconds only.
        var before = Snapshot(src, mtimeSecondsOnly: true);
        Sh($"tar --format=gnu -C '{src}' -cf - . | zstd -q > '{t.Sub("g.tar.zst")}'");

        await using var input = File.OpenRead(t.Sub("g.tar.zst"));
        await TarZstd.UnpackDirectoryAsync(fs, input, dst, CancellationToken.None);

        AssertSameTree(WithoutSetuid(before), Snapshot(dst, mtimeSecondsOnly: true));
    }
}
