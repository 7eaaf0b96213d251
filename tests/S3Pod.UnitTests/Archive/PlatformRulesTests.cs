using S3Pod.Commands;
using System.Formats.Tar;
using System.Text;
using S3Pod.Archive;
using static S3Pod.UnitTests.Archive.ArchiveTestSupport;

namespace S3Pod.UnitTests.Archive;

/// <summary>
/// Extraction under Windows' name rules and onto a case-insensitive file system, run here through the
/// portable layer with those rules forced: refused with exit 5 naming the entry, before anything is
/// written, destination unchanged.
/// </summary>
public class PlatformRulesTests
{
    private static PaxTarEntry File(string name, string content = "data") =>
        new(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)) };

    private static byte[] TarZst(params TarEntry[] entries)
    {
        var ms = new MemoryStream();
        using (var w = new TarWriter(ms, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var e in entries) w.WriteEntry(e);
        }
        return Zstd(ms.ToArray());
    }

    private static async Task<S3PodException> RefusedAsync(IFileSystem fs, byte[] archive, TempDir t)
    {
        WriteFile(t.Sub("dest/keep.txt"), "keep");
        var before = Snapshot(t.Path, includeRoot: true);
        var e = await Assert.ThrowsAsync<S3PodException>(() => TarZstd.UnpackDirectoryAsync(fs, new MemoryStream(archive), t.Sub("dest"), CancellationToken.None));
        Assert.Equal(ExitCodes.Integrity, ExitCodes.For(e.Kind));
        Assert.DoesNotContain('\n', e.Message);
        AssertSameTree(before, Snapshot(t.Path, includeRoot: true));
        return e;
    }

    [Theory]
    [InlineData("CON.txt", "reserved device name")]
    [InlineData("sub/aux", "reserved device name")]
    [InlineData("trailing.", "trailing dot")]
    public async Task PackingASourceWithAWindowsForbiddenName_IsAnErrorNamingTheFile(string name, string reason)
    {
        // On Windows "CON.txt" opens the console and "x." another file: packing must say which file, not
        // fail with .NET's "Invalid name" (an internal error) or archive something else.
        using var t = new TempDir();
        WriteFile(t.Sub("src/fine.txt"), "fine");
        WriteFile(t.Sub("src/" + name), "x");
        var e = await Assert.ThrowsAsync<S3PodException>(() =>
            TarZstd.PackDirectoryAsync(new PortableFileSystem(windowsNames: true), t.Sub("src"), new MemoryStream(), 3, CancellationToken.None));
        Assert.Equal(ExitCodes.OperationalError, ExitCodes.For(e.Kind));
        Assert.Contains(Path.Combine(t.Sub("src"), name), e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Theory]
    [InlineData("CON", "reserved device name")]
    [InlineData("sub/nul.txt", "reserved device name")]
    [InlineData("a:b", "':'")]
    [InlineData("dir./file", "trailing dot")]
    [InlineData("back\\slash", "'\\'")]
    public async Task WindowsForbiddenName_IsRefused_NamingTheEntry(string name, string reason)
    {
        using var t = new TempDir();
        var e = await RefusedAsync(new PortableFileSystem(windowsNames: true), TarZst(File("fine.txt"), File(name)), t);
        Assert.Contains(EntryNames.Quote(name), e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    [Trait("Requires", "linux")] // Windows refuses the names; this is about the OSes that allow them
    public async Task WindowsForbiddenName_IsRestoredWhereTheOsAllowsIt()
    {
        using var t = new TempDir();
        foreach (string fsName in FileSystemNames())
        {
            string dest = t.Sub(fsName);
            await TarZstd.UnpackDirectoryAsync(Fs(fsName), new MemoryStream(TarZst(File("CON"), File("a:b"))), dest, CancellationToken.None);
            Assert.True(System.IO.File.Exists(Path.Join(dest, "CON")));
            Assert.True(System.IO.File.Exists(Path.Join(dest, "a:b")));
        }
    }

    public static TheoryData<string, string> CaseCollisions() => new()
    {
        { "two-files", "A.txt|a.txt" },
        { "file-and-directory-prefix", "Dir/x.txt|dir/y.txt" },
        { "non-ascii", "ÄRGER|ärger" },
        { "deep", "a/b/C/d|a/b/c/e" },
    };

    [Theory]
    [MemberData(nameof(CaseCollisions))]
    public async Task CaseCollision_OnACaseInsensitiveDestination_IsRefused(string what, string names)
    {
        using var t = new TempDir();
        var parts = names.Split('|');
        var e = await RefusedAsync(new PortableFileSystem(windowsNames: false, caseInsensitive: true), TarZst(File(parts[0], "first"), File(parts[1], "second")), t);
        Assert.Contains("case-insensitive", e.Message);
        Assert.Contains(EntryNames.Quote(parts[1]), e.Message);
        _ = what;
    }

    [Fact]
    public async Task CaseCollision_ThroughAnArchiveSymlink_IsRefused()
    {
        using var t = new TempDir();
        Directory.CreateDirectory(t.Sub("outside"));
        var link = new PaxTarEntry(TarEntryType.SymbolicLink, "l") { LinkName = t.Sub("outside") };
        var e = await RefusedAsync(new PortableFileSystem(windowsNames: false, caseInsensitive: true), TarZst(link, File("L/evil")), t);
        Assert.Contains("'L'", e.Message);
        var hard = new PaxTarEntry(TarEntryType.HardLink, "h") { LinkName = "L/victim" };
        await RefusedAsync(new PortableFileSystem(windowsNames: false, caseInsensitive: true), TarZst(link, hard), t);
    }

    [Fact]
    public async Task SameNameTwice_IsStillTarsLaterEntryWins()
    {
        using var t = new TempDir();
        await TarZstd.UnpackDirectoryAsync(new PortableFileSystem(windowsNames: true, caseInsensitive: true),
            new MemoryStream(TarZst(File("Same.txt", "old"), File("Same.txt", "new"))), t.Sub("dest"), CancellationToken.None);
        Assert.Equal("new", System.IO.File.ReadAllText(t.Sub("dest/Same.txt")));
    }

    [Theory]
    [Trait("Requires", "linux")] // a case-sensitive temp directory: not macOS's or Windows' default
    [MemberData(nameof(FileSystemNames), MemberType = typeof(ArchiveTestSupport))]
    public async Task CaseVariants_AreRestoredOnACaseSensitiveDestination(string fsName)
    {
        using var t = new TempDir();
        await TarZstd.UnpackDirectoryAsync(Fs(fsName), new MemoryStream(TarZst(File("A.txt", "upper"), File("a.txt", "lower"))), t.Sub("dest"), CancellationToken.None);
        Assert.Equal("upper", System.IO.File.ReadAllText(t.Sub("dest/A.txt")));
        Assert.Equal("lower", System.IO.File.ReadAllText(t.Sub("dest/a.txt")));
    }
}
