using S3Pod.Archive;
using S3Pod.Commands;
using static S3Pod.UnitTests.Archive.ArchiveTestSupport;

namespace S3Pod.UnitTests.Archive;

/// <summary>S3POD_FS: which implementation the binary uses, and the one-line error for a bad value.</summary>
public class FileSystemSelectionTests
{
    [Fact]
    public void Unset_IsTheOsChoice_AndPortableCanBeForced()
    {
        string expected = OperatingSystem.IsLinux() ? "linux" : "portable";
        Assert.Equal(expected, FileSystems.Select(null).Name);
        Assert.Equal(expected, FileSystems.Select("").Name);
        Assert.Equal("portable", FileSystems.Select("portable").Name);
        if (OperatingSystem.IsLinux()) Assert.Equal("linux", FileSystems.Select("linux").Name);
    }

    [Theory]
    [InlineData("Portable")]
    [InlineData("statx")]
    [InlineData("portable\nINJECTED")]
    public void UnknownValue_IsUsageExit2_OnOneLine(string value)
    {
        var e = Assert.Throws<S3PodException>(() => FileSystems.Select(value));
        Assert.Equal(ExitCodes.OperationalError, ExitCodes.For(e.Kind));
        Assert.Contains("S3POD_FS", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public async Task Cli_BadS3PodFs_FailsTheArchivingCommand_WithExit2AndOneLine()
    {
        using var t = new TempDir();
        WriteFile(t.Sub("src/a.txt"), "a");
        var env = new Dictionary<string, string> { ["HOME"] = t.Path, ["S3POD_STORE"] = t.Sub("store"), ["S3POD_FS"] = "bogus" };
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var app = new CliApp(n => env.TryGetValue(n, out var v) ? v : null, stdout, stderr, false, t.Path);

        int code = await app.RunAsync(["dir", "upload", "k", "src"], default);

        Assert.Equal(ExitCodes.OperationalError, code);
        // The store announces itself first ("no bucket configured; ..."); the error is one line of its own.
        var lines = stderr.ToString().Trim().Split('\n');
        Assert.Single(lines, l => l.Contains("S3POD_FS must be 'portable' or 'linux' (or unset), not 'bogus'"));
        Assert.Single(lines, l => l.Contains("S3POD_FS"));
        Assert.False(Directory.Exists(t.Sub("store")) && Directory.EnumerateFiles(t.Sub("store"), "*", SearchOption.AllDirectories).Any());
    }

    [Theory]
    [Trait("Requires", "unix")]
    [InlineData("portable")]
    [InlineData("")]
    public async Task Cli_DirUploadDownload_WorksInEachMode(string mode)
    {
        using var t = new TempDir();
        MakeRichTree(t.Sub("src"));
        var env = new Dictionary<string, string> { ["HOME"] = t.Path, ["S3POD_STORE"] = t.Sub("store"), ["S3POD_FS"] = mode };
        var app = new CliApp(n => env.TryGetValue(n, out var v) ? v : null, new StringWriter(), new StringWriter(), false, t.Path);
        Assert.Equal(0, await app.RunAsync(["dir", "upload", "k", "src"], default));
        Assert.Equal(0, await app.RunAsync(["dir", "download", "k", "dst"], default));
        var expected = Snapshot(t.Sub("src"));
        expected["bin/suid"] = expected["bin/suid"].Replace("mode=4755", "mode=755");
        AssertSameTree(expected, Snapshot(t.Sub("dst")));
    }

    [Fact]
    [Trait("Requires", "linux")]
    public void CaseProbe_SeesThatThisFileSystemIsCaseSensitive()
    {
        // tmpfs and ext4 here are case-sensitive; a wrong probe would refuse "A" next to "a" on Linux.
        using var t = new TempDir();
        foreach (string name in FileSystemNames()) Assert.False(Fs(name).IsCaseInsensitive(t.Path));
        Assert.Empty(Directory.EnumerateFileSystemEntries(t.Path)); // the probe file is gone
    }
}
