using System.Diagnostics;
using S3Pod.Keys;

namespace S3Pod.UnitTests;

/// <summary>The digest's definition is a contract (README): check it against coreutils itself.</summary>
public class ContentHasherTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("s3pod-hash-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Shell(string command, string cwd)
    {
        var psi = new ProcessStartInfo("bash", ["-c", command]) { WorkingDirectory = cwd, RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        return output.Split(' ')[0].Trim();
    }

    private void Write(string rel, string content)
    {
        var path = Path.Combine(_dir, rel);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    [Fact]
    public async Task SingleFile_EqualsSha256sum()
    {
        Write("go.sum", "module x\n");
        var digest = await ContentHasher.DigestAsync(["go.sum"], _dir, default);
        Assert.Equal(Shell("sha256sum go.sum", _dir), digest);
    }

    [Fact]
    public async Task DirectoryAndFiles_EqualFindSortSha256sum()
    {
        Write("src/b.txt", "b");
        Write("src/a/ü nicode.txt", "a");
        Write("src/a/Z.txt", "z");
        Write("src/a/back\\slash", "weird");
        Write("go.sum", "sum");
        File.CreateSymbolicLink(Path.Combine(_dir, "src/link"), "b.txt");
        var digest = await ContentHasher.DigestAsync(["src", "go.sum"], _dir, default);
        var expected = Shell("find src go.sum -type f -print0 | LC_ALL=C sort -zu | xargs -0 sha256sum | sha256sum", _dir);
        Assert.Equal(expected, digest);
    }

    [Fact]
    public async Task Glob_MatchesLikeFind()
    {
        Write("a/go.sum", "1");
        Write("b/c/go.sum", "2");
        Write("b/c/other", "3");
        var digest = await ContentHasher.DigestAsync(["**/go.sum"], _dir, default);
        var expected = Shell("find . -name go.sum -type f -printf '%P\\0' | LC_ALL=C sort -zu | xargs -0 sha256sum | sha256sum", _dir);
        Assert.Equal(expected, digest);
    }

    [Fact]
    public async Task ContentChange_ChangesDigest()
    {
        Write("d/x", "1");
        var before = await ContentHasher.DigestAsync(["d"], _dir, default);
        Write("d/x", "2");
        Assert.NotEqual(before, await ContentHasher.DigestAsync(["d"], _dir, default));
    }

    [Fact]
    public async Task Missing_IsUsageError()
    {
        var e = await Assert.ThrowsAsync<S3PodException>(() => ContentHasher.DigestAsync(["nope"], _dir, default));
        Assert.Contains("'nope'", e.Message);
        e = await Assert.ThrowsAsync<S3PodException>(() => ContentHasher.DigestAsync(["**/*.lock"], _dir, default));
        Assert.Contains("matched no files", e.Message);
    }
}
