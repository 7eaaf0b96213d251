using S3Pod.Commands;
using Xunit;
using System.Formats.Tar;
using System.Text;
using S3Pod.Archive;
using static S3Pod.UnitTests.Archive.ArchiveTestSupport;

namespace S3Pod.UnitTests.Archive;

/// <summary>
/// Hostile and damaged archives: each must fail with exit 5 and a message naming the entry, write
/// nothing outside the destination, leave the destination exactly as it was and leave no staging.
/// </summary>
/// <remarks>Unix modes, symlinks and /-paths throughout: not run on Windows (the README's "Platforms" says what differs there).</remarks>
[Trait("Requires", "unix")]
public class TarZstdSafetyTests
{
    private sealed class Scene : IDisposable
    {
        public TempDir Temp { get; } = new();
        public string Dest => Temp.Sub("dest");
        public string Outside => Temp.Sub("outside");

        public Scene()
        {
            WriteFile(Path.Join(Dest, "keep.txt"), "keep");
            WriteFile(Path.Join(Dest, "sub/keep2.txt"), "keep2");
            WriteFile(Path.Join(Outside, "victim"), "victim");
        }

        public void Dispose() => Temp.Dispose();
    }

    private static PaxTarEntry File(string name, string content = "evil")
    {
        var e = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)) };
        return e;
    }

    private static PaxTarEntry Link(TarEntryType type, string name, string target) => new(type, name) { LinkName = target };

    private static byte[] Tar(params TarEntry[] entries)
    {
        var ms = new MemoryStream();
        using (var w = new TarWriter(ms, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var e in entries) w.WriteEntry(e);
        }
        return ms.ToArray();
    }

    private static byte[] TarGnu(params TarEntry[] entries)
    {
        var ms = new MemoryStream();
        using (var w = new TarWriter(ms, TarEntryFormat.Gnu, leaveOpen: true))
        {
            foreach (var e in entries) w.WriteEntry(e);
        }
        return ms.ToArray();
    }

    /// <summary>
    /// The hostile archives, by case name: (tar bytes, the entry name the message must show).
    /// </summary>
    private static (byte[] Tar, string Entry) Build(string kind, Scene s) => kind switch
    {
        "absolute-path" => (Tar(File("ok.txt", "ok"), File(Path.Join(s.Outside, "evil"))), Path.Join(s.Outside, "evil")),
        "dotdot" => (Tar(File("../outside/evil")), "../outside/evil"),
        "dotdot-inside" => (Tar(File("a/../../outside/evil")), "a/../../outside/evil"),
        "file-through-archive-symlink" => (Tar(Link(TarEntryType.SymbolicLink, "l", s.Outside), File("l/evil")), "l/evil"),
        "file-through-relative-symlink" => (Tar(Link(TarEntryType.SymbolicLink, "l", "../outside"), File("l/evil")), "l/evil"),
        "dir-through-archive-symlink" => (Tar(Link(TarEntryType.SymbolicLink, "l", s.Outside), new PaxTarEntry(TarEntryType.Directory, "l/newdir/")), "l/newdir/"),
        "symlink-through-archive-symlink" => (Tar(Link(TarEntryType.SymbolicLink, "l", s.Outside), Link(TarEntryType.SymbolicLink, "l/x", "/etc")), "l/x"),
        "hardlink-absolute-target" => (Tar(Link(TarEntryType.HardLink, "h", Path.Join(s.Outside, "victim"))), "h"),
        "hardlink-dotdot-target" => (Tar(Link(TarEntryType.HardLink, "h", "../outside/victim")), "h"),
        "hardlink-to-later-entry" => (Tar(Link(TarEntryType.HardLink, "h", "later.txt"), File("later.txt")), "h"),
        "hardlink-to-missing-entry" => (Tar(Link(TarEntryType.HardLink, "h", "nothing")), "h"),
        "hardlink-through-symlink" => (Tar(Link(TarEntryType.SymbolicLink, "l", s.Outside), Link(TarEntryType.HardLink, "h", "l/victim")), "h"),
        "hardlink-to-directory" => (Tar(new PaxTarEntry(TarEntryType.Directory, "d/"), Link(TarEntryType.HardLink, "h", "d")), "h"),
        "character-device" => (Tar(new PaxTarEntry(TarEntryType.CharacterDevice, "null") { DeviceMajor = 1, DeviceMinor = 3 }), "null"),
        "block-device" => (Tar(new PaxTarEntry(TarEntryType.BlockDevice, "sda") { DeviceMajor = 8, DeviceMinor = 0 }), "sda"),
        "fifo" => (Tar(File("ok.txt", "ok"), new PaxTarEntry(TarEntryType.Fifo, "pipe")), "pipe"),
        "unknown-type" => (WithTypeFlag(Tar(File("weird")), (byte)'Z'), "weird"),
        // GNU long names keep a newline (PAX records cannot); the message must still be one line.
        "newline-in-name" => (TarGnu(new GnuTarEntry(TarEntryType.RegularFile, "../evil\nINJECTED") { DataStream = new MemoryStream("x"u8.ToArray()) }), "../evil\\x0aINJECTED"),
        _ => throw new ArgumentException(kind),
    };

    /// <summary>Rewrites the type flag of the first header (a plain ustar header) and fixes its checksum.</summary>
    private static byte[] WithTypeFlag(byte[] tar, byte flag)
    {
        var ms = new MemoryStream();
        using (var w = new TarWriter(ms, TarEntryFormat.Ustar, leaveOpen: true))
        {
            w.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, "weird") { DataStream = new MemoryStream("x"u8.ToArray()) });
        }
        var b = ms.ToArray();
        b[156] = flag;
        for (int i = 148; i < 156; i++) b[i] = (byte)' ';
        int sum = 0;
        for (int i = 0; i < 512; i++) sum += b[i];
        Encoding.ASCII.GetBytes(Convert.ToString(sum, 8).PadLeft(6, '0') + "\0 ").CopyTo(b, 148);
        _ = tar;
        return b;
    }

    private static readonly string[] HostileKinds =
    [
        "absolute-path", "dotdot", "dotdot-inside", "file-through-archive-symlink", "file-through-relative-symlink",
        "dir-through-archive-symlink", "symlink-through-archive-symlink", "hardlink-absolute-target", "hardlink-dotdot-target",
        "hardlink-to-later-entry", "hardlink-to-missing-entry", "hardlink-through-symlink", "hardlink-to-directory",
        "character-device", "block-device", "fifo", "unknown-type", "newline-in-name",
    ];

    /// <summary>Every case against every file-system implementation: the rules must hold identically.</summary>
    public static TheoryData<string, string> Kinds() => Cross(HostileKinds);

    private static TheoryData<string, string> Cross(IEnumerable<string> cases)
    {
        var data = new TheoryData<string, string>();
        foreach (var c in cases)
            foreach (string fs in FileSystemNames()) data.Add(c, fs);
        return data;
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task HostileArchive_IsRefusedWithExit5_AndChangesNothing(string kind, string fsName)
    {
        var fs = Fs(fsName);
        using var s = new Scene();
        var (tar, entry) = Build(kind, s);
        var destBefore = Snapshot(s.Dest, includeRoot: true);
        var outsideBefore = Snapshot(s.Temp.Path, includeRoot: true);

        var e = await Assert.ThrowsAsync<S3PodException>(() =>
            TarZstd.UnpackDirectoryAsync(fs, new MemoryStream(Zstd(tar)), s.Dest, CancellationToken.None));

        Assert.Equal(ExitCodes.Integrity, ExitCodes.For(e.Kind));
        Assert.Contains(entry, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        AssertSameTree(destBefore, Snapshot(s.Dest, includeRoot: true));
        AssertSameTree(outsideBefore, Snapshot(s.Temp.Path, includeRoot: true));
    }

    [Theory]
    [MemberData(nameof(FileSystemNames), MemberType = typeof(ArchiveTestSupport))]
    public async Task SymlinkAlreadyInDestination_IsNotWrittenThrough(string fsName)
    {
        var fs = Fs(fsName);
        using var s = new Scene();
        System.IO.File.CreateSymbolicLink(Path.Join(s.Dest, "cache"), s.Outside);
        var tar = Tar(File("fine.txt", "fine"), new PaxTarEntry(TarEntryType.Directory, "cache/"), File("cache/evil"));
        var destBefore = Snapshot(s.Dest, includeRoot: true);
        var allBefore = Snapshot(s.Temp.Path, includeRoot: true);

        var e = await Assert.ThrowsAsync<S3PodException>(() =>
            TarZstd.UnpackDirectoryAsync(fs, new MemoryStream(Zstd(tar)), s.Dest, CancellationToken.None));

        Assert.Equal(ExitCodes.Integrity, ExitCodes.For(e.Kind));
        Assert.Contains("cache", e.Message);
        AssertSameTree(destBefore, Snapshot(s.Dest, includeRoot: true));
        AssertSameTree(allBefore, Snapshot(s.Temp.Path, includeRoot: true));
        Assert.False(System.IO.File.Exists(Path.Join(s.Dest, "fine.txt"))); // nothing half-restored
    }

    [Theory]
    [MemberData(nameof(FileSystemNames), MemberType = typeof(ArchiveTestSupport))]
    public async Task ArchiveSymlinks_AreRestoredVerbatim_EvenWhenTheyPointOutside(string fsName)
    {
        var fs = Fs(fsName);
        using var s = new Scene();
        var tar = Tar(Link(TarEntryType.SymbolicLink, "abs", "/etc/passwd"), Link(TarEntryType.SymbolicLink, "up", "../../x"));
        await TarZstd.UnpackDirectoryAsync(fs, new MemoryStream(Zstd(tar)), s.Dest, CancellationToken.None);
        Assert.Equal("/etc/passwd", new FileInfo(Path.Join(s.Dest, "abs")).LinkTarget);
        Assert.Equal("../../x", new FileInfo(Path.Join(s.Dest, "up")).LinkTarget);
    }

    [Theory]
    [MemberData(nameof(FileSystemNames), MemberType = typeof(ArchiveTestSupport))]
    public async Task FileWhereDestinationHasDirectory_IsExit2_AndChangesNothing(string fsName)
    {
        var fs = Fs(fsName);
        using var s = new Scene();
        var tar = Tar(File("new.txt", "new"), File("sub", "a file where a directory is"));
        var before = Snapshot(s.Dest, includeRoot: true);
        var e = await Assert.ThrowsAsync<S3PodException>(() =>
            TarZstd.UnpackDirectoryAsync(fs, new MemoryStream(Zstd(tar)), s.Dest, CancellationToken.None));
        Assert.Equal(ExitCodes.OperationalError, ExitCodes.For(e.Kind));
        Assert.Contains("sub", e.Message);
        AssertSameTree(before, Snapshot(s.Dest, includeRoot: true));
    }

    private static async Task<byte[]> GoodArchiveAsync(TempDir t, IFileSystem fs)
    {
        MakeRichTree(t.Sub("src"));
        return await PackToBytesAsync(t.Sub("src"), fs: fs);
    }

    public static TheoryData<string, string> Damages() => Cross(["cut-early", "cut-late", "cut-one-byte", "flipped-byte", "trailing-garbage"]);

    [Theory]
    [MemberData(nameof(Damages))]
    public async Task DamagedArchive_IsExit5_AndDestinationUnchanged(string damage, string fsName)
    {
        var fs = Fs(fsName);
        using var s = new Scene();
        var good = await GoodArchiveAsync(s.Temp, fs);
        byte[] bad = damage switch
        {
            "cut-early" => good[..(good.Length / 3)],
            "cut-late" => good[..(good.Length - 100)],
            "cut-one-byte" => good[..^1],
            "flipped-byte" => Flip(good, good.Length / 2),
            "trailing-garbage" => [.. good, .. "garbage!"u8.ToArray()],
            _ => throw new ArgumentException(damage),
        };
        var before = Snapshot(s.Dest, includeRoot: true);
        var e = await Assert.ThrowsAsync<S3PodException>(() =>
            TarZstd.UnpackDirectoryAsync(fs, new MemoryStream(bad), s.Dest, CancellationToken.None));
        Assert.Equal(ExitCodes.Integrity, ExitCodes.For(e.Kind));
        Assert.Contains("archive is truncated or corrupt", e.Message);
        AssertSameTree(before, Snapshot(s.Dest, includeRoot: true));
        Assert.Empty(Directory.GetDirectories(s.Temp.Path, ".s3pod-stage-*", SearchOption.AllDirectories));
    }

    private static byte[] Flip(byte[] b, int at)
    {
        var c = (byte[])b.Clone();
        c[at] ^= 0x55;
        return c;
    }

    public static TheoryData<string, string> NotArchives() => Cross(["empty", "text", "plain-tar", "gzip", "zstd-of-text"]);

    [Theory]
    [MemberData(nameof(NotArchives))]
    public async Task NotATarZst_IsExit5(string what, string fsName)
    {
        var fs = Fs(fsName);
        using var s = new Scene();
        byte[] input = what switch
        {
            "empty" => [],
            "text" => "this is not an archive at all\n"u8.ToArray(),
            "plain-tar" => Tar(File("a.txt", "a")),
            "gzip" => [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3],
            "zstd-of-text" => Zstd(Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("plain text, not tar. ", 100)))),
            _ => throw new ArgumentException(what),
        };
        var before = Snapshot(s.Dest, includeRoot: true);
        var e = await Assert.ThrowsAsync<S3PodException>(() =>
            TarZstd.UnpackDirectoryAsync(fs, new MemoryStream(input), s.Dest, CancellationToken.None));
        Assert.Equal(ExitCodes.Integrity, ExitCodes.For(e.Kind));
        Assert.Contains("not a tar.zst archive", e.Message);
        AssertSameTree(before, Snapshot(s.Dest, includeRoot: true));
    }

    [Theory]
    [MemberData(nameof(FileSystemNames), MemberType = typeof(ArchiveTestSupport))]
    public async Task EmptyDirectory_PacksToAValidEmptyTar_ThatGnuTarAndWeRead(string fsName)
    {
        var fs = Fs(fsName);
        using var s = new Scene();
        Directory.CreateDirectory(s.Temp.Sub("empty"));
        var bytes = await PackToBytesAsync(s.Temp.Sub("empty"), fs: fs);
        Assert.Equal("", Sh("zstd -d -q | tar -t", bytes));
        var stats = await TarZstd.UnpackDirectoryAsync(fs, new MemoryStream(bytes), s.Temp.Sub("restored"), CancellationToken.None);
        Assert.Equal(0, stats.Files);
        Assert.True(Directory.Exists(s.Temp.Sub("restored")));
    }

    [Theory]
    [MemberData(nameof(FileSystemNames), MemberType = typeof(ArchiveTestSupport))]
    public async Task EmptyArchive_RestoresNothing_AndSucceeds(string fsName)
    {
        var fs = Fs(fsName);
        using var s = new Scene();
        var before = Snapshot(s.Dest);
        var stats = await TarZstd.UnpackDirectoryAsync(fs, new MemoryStream(Zstd(Tar())), s.Dest, CancellationToken.None);
        Assert.Equal(0, stats.Files);
        AssertSameTree(before, Snapshot(s.Dest));
    }
}
