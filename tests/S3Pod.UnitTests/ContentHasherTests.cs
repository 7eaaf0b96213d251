using S3Pod.Commands;
using System.Diagnostics;
using S3Pod.Keys;

namespace S3Pod.UnitTests;

/// <summary>
/// The digest's definition is a contract (README, "The key digest, exactly"): every case is checked
/// against the README's own coreutils functions, run by a real bash.
/// </summary>
public class ContentHasherTests : IDisposable
{
    /// <summary>Verbatim from the README; <see cref="Readme_ShowsTheTestedShellLines"/> keeps them equal.</summary>
    private static readonly string[] ShellFunctions =
    [
        """filedigest() { sha256sum < "$1" | cut -c1-64; }""",
        """dirdigest()  { (cd "$1" && find . -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 -r sha256sum --) | sha256sum | cut -c1-64; }""",
        """globdigest() { (IFS=; shopt -s globstar dotglob nullglob; for f in $1; do [[ -f $f && ! -L $f ]] && printf '%s\0' "$f"; done) | LC_ALL=C sort -z | xargs -0 -r sha256sum -- | sha256sum | cut -c1-64; }""",
    ];

    /// <summary>The README's table rows for the file and several-inputs cases, also run as written.</summary>
    private const string FileLine = "sha256sum go.sum | cut -c1-16";
    private const string SeveralLine = "{ filedigest go.sum; dirdigest src; globdigest '**/*.lock'; } | sha256sum | cut -c1-16";

    private const string EmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    private readonly string _dir = Directory.CreateTempSubdirectory("s3pod-hash-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static void RequireGnuTools() =>
        Skip.IfNot(OperatingSystem.IsLinux(), "the README's lines need GNU find, sort and sha256sum (Linux)");

    /// <summary>Runs a bash line after the README's functions; returns stdout without the final newline.</summary>
    private static string Shell(string command, string cwd)
    {
        var psi = new ProcessStartInfo("bash", ["-c", string.Join("\n", ShellFunctions) + "\n" + command])
        {
            WorkingDirectory = cwd, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(30_000), $"bash did not finish: {command}");
        Assert.True(p.ExitCode == 0, $"bash exited {p.ExitCode}: {stderr.Result}");
        return stdout.Result.TrimEnd('\n');
    }

    /// <summary>The digest, bounded: a regression that opens a FIFO or a device must fail, not hang.</summary>
    private static Task<string> Digest(string workingDirectory, params string[] inputs) =>
        Task.Run(() => ContentHasher.Digest(inputs, workingDirectory, default)).WaitAsync(TimeSpan.FromSeconds(20));

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''") + "'";

    private static void Write(string root, string rel, string content)
    {
        var path = Path.Combine(root, rel);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    private static void MakeFifo(string path)
    {
        using var p = Process.Start("mkfifo", [path])!;
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }

    /// <summary>Names that tell bytewise UTF-8 order from UTF-16 ordinal and culture order, that
    /// sha256sum escapes, and that tools mistake for options; plus what a walk must leave out.</summary>
    private static void WriteAwkwardTree(string root)
    {
        Write(root, "b.txt", "b");
        Write(root, "Z.txt", "upper");
        Write(root, "a/ü nicode.txt", "a");
        Write(root, "a/space name/inner file", "s");
        Write(root, "a/\uFF21 fullwidth", "fw");   // U+FF21 sorts after an emoji in UTF-16, before it in UTF-8
        Write(root, "a/\U0001F600 emoji", "em");
        Write(root, "a.b", "dot");                  // "a.b" < "a/…" bytewise ('.' is 0x2E, '/' 0x2F)
        Write(root, "a/back\\slash", "weird");
        Write(root, "a/new\nline", "nl");
        Write(root, "a/carriage\rreturn", "cr");
        Write(root, "-n", "dash");
        Write(root, ".hidden/x", "h");
        Directory.CreateDirectory(Path.Combine(root, "empty/deeper"));
        File.CreateSymbolicLink(Path.Combine(root, "link-to-file"), "b.txt");
        File.CreateSymbolicLink(Path.Combine(root, "link-to-dir"), "a");
        File.CreateSymbolicLink(Path.Combine(root, "link-to-nothing"), "gone");
        MakeFifo(Path.Combine(root, "a/fifo"));
    }

    [SkippableFact]
    public async Task SingleFile_IsItsSha256()
    {
        RequireGnuTools();
        Write(_dir, "go.sum", "module x\n");
        var digest = await Digest(_dir, "go.sum");
        Assert.Equal(Shell("filedigest go.sum", _dir), digest);
        Assert.Equal(Shell(FileLine, _dir), digest[..16]);
        Assert.Equal(digest, await Digest("/", Path.Combine(_dir, "go.sum")));
    }

    [SkippableFact]
    public async Task Directory_EqualsDirdigest()
    {
        RequireGnuTools();
        var tree = Path.Combine(_dir, "tree");
        WriteAwkwardTree(tree);
        var digest = await Digest(_dir, tree);
        Assert.Equal(Shell($"dirdigest {Quote(tree)}", _dir), digest);
        Assert.Equal(Shell("dirdigest tree | cut -c1-16", _dir), digest[..16]);
    }

    [SkippableFact]
    public void Directory_ListsFilesInLcAllCSortOrder()
    {
        RequireGnuTools();
        WriteAwkwardTree(_dir);
        var names = ContentHasher.Expand(".", _dir).Files.Select(f => f.Name).ToList();
        var sorted = Shell("find . -type f -printf '%P\\0' | LC_ALL=C sort -z", _dir).Split('\0', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(sorted, names);
        Assert.DoesNotContain(names, n => n.StartsWith("link-") || n.EndsWith("fifo") || n.StartsWith("empty"));
    }

    [Fact]
    public async Task SameTree_AtDifferentAbsolutePaths_GivesTheSameDigest()
    {
        var runnerA = Path.Combine(_dir, "home/runner/work/app/app");
        var runnerB = Path.Combine(_dir, "Users/runner/w/app");
        foreach (var root in new[] { runnerA, runnerB })
        {
            Write(root, "go.sum", "sum");
            Write(root, "src/main.go", "package main");
            Write(root, "src/ü dir/x y.go", "package x");
        }
        var a = await Digest("/", runnerA);
        Assert.Equal(a, await Digest("/", runnerB));
        Assert.Equal(a, await Digest(runnerB, "."));
        Assert.Equal(a, await Digest(Path.Combine(_dir, "home/runner/x"), "../work/app/app/"));

        // several inputs, a file among them: its absolute path does not enter either
        var several = await Digest("/", Path.Combine(runnerA, "go.sum"), Path.Combine(runnerA, "src"));
        Assert.Equal(several, await Digest(runnerB, "go.sum", "src"));

        File.WriteAllText(Path.Combine(runnerB, "src/main.go"), "package mainX");
        Assert.NotEqual(a, await Digest("/", runnerB));
        File.WriteAllText(Path.Combine(runnerB, "src/main.go"), "package main");
        Assert.Equal(a, await Digest("/", runnerB));

        File.Move(Path.Combine(runnerB, "src/main.go"), Path.Combine(runnerB, "src/main2.go"));
        Assert.NotEqual(a, await Digest("/", runnerB));
    }

    [SkippableTheory]
    [InlineData("**/go.sum")]
    [InlineData("*/go.sum")]
    [InlineData("b/**")]
    [InlineData("**/*.lock")]
    [InlineData("[ab]/*")]
    [InlineData("../up/*.txt")]
    public async Task Glob_EqualsGlobdigest(string pattern)
    {
        RequireGnuTools();
        var work = Path.Combine(_dir, "work");
        Write(work, "go.sum", "0");
        Write(work, "a/go.sum", "1");
        Write(work, "b/c/go.sum", "2");
        Write(work, "b/c/other", "3");
        Write(work, ".hidden/go.sum", "4");
        Write(work, "b/c/x y.lock", "5");
        Write(work, "a/ü.lock", "6");
        Write(_dir, "up/u.txt", "7");
        File.CreateSymbolicLink(Path.Combine(work, "b/link.lock"), "c/x y.lock");
        var digest = await Digest(work, pattern);
        Assert.Equal(Shell($"globdigest {Quote(pattern)}", work), digest);
    }

    [Fact]
    public async Task Glob_LeadingDotSlash_IsDropped()
    {
        Write(_dir, "a/go.sum", "1");
        Assert.Equal(await Digest(_dir, "**/go.sum"), await Digest(_dir, "./**/go.sum"));
    }

    [Fact]
    public async Task Glob_Absolute_NamesMatchesFromItsLiteralBase()
    {
        Write(_dir, "ws/a/go.sum", "1");
        Write(_dir, "ws/b/c/go.sum", "2");
        var relative = await Digest(Path.Combine(_dir, "ws"), "**/go.sum");
        Assert.Equal(relative, await Digest("/", Path.Combine(_dir, "ws") + "/**/go.sum"));
        Assert.NotEqual(relative, await Digest(_dir, "ws/**/go.sum"));
    }

    [SkippableFact]
    public async Task SeveralInputs_AreTheDigestOfEachDigestInOrder()
    {
        RequireGnuTools();
        Write(_dir, "go.sum", "sum");
        Write(_dir, "src/a.go", "a");
        Write(_dir, "src/b/b.go", "b");
        Write(_dir, "x/y.lock", "lock");
        Write(_dir, "z.lock", "lock2");
        var digest = await Digest(_dir, "go.sum", "src", "**/*.lock");
        Assert.Equal(Shell(SeveralLine, _dir), digest[..16]);
        Assert.NotEqual(digest, await Digest(_dir, "src", "go.sum", "**/*.lock"));
    }

    [SkippableFact]
    public async Task NamedSymlink_IsFollowed_SymlinksInside_AreNeither()
    {
        RequireGnuTools();
        Write(_dir, "real/f", "f");
        Write(_dir, "tree/g", "g");
        File.CreateSymbolicLink(Path.Combine(_dir, "file-link"), "real/f");
        File.CreateSymbolicLink(Path.Combine(_dir, "dir-link"), "tree");
        Assert.Equal(Shell("filedigest real/f", _dir), await Digest(_dir, "file-link"));
        var tree = await Digest(_dir, "tree");
        Assert.Equal(tree, await Digest(_dir, "dir-link"));

        File.CreateSymbolicLink(Path.Combine(_dir, "tree/inner-link"), "../real");
        Assert.Equal(tree, await Digest(_dir, "tree"));
        File.Delete(Path.Combine(_dir, "tree/inner-link"));
        File.CreateSymbolicLink(Path.Combine(_dir, "tree/inner-link"), "/somewhere/else");
        Assert.Equal(tree, await Digest(_dir, "tree"));
    }

    [Fact]
    public async Task EmptyDirectories_AreNotListed()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "empty"));
        Assert.Equal(EmptySha256, await Digest(_dir, "empty"));
        Write(_dir, "tree/f", "f");
        var before = await Digest(_dir, "tree");
        Directory.CreateDirectory(Path.Combine(_dir, "tree/new/empty"));
        Assert.Equal(before, await Digest(_dir, "tree"));
    }

    [Fact]
    public async Task ExistingPath_WithWildcardCharacters_IsLiteral()
    {
        Write(_dir, "app/[id]/page.tsx", "page");
        Write(_dir, "app/i", "not this");
        Write(_dir, "copy/page.tsx", "page");
        Assert.Equal(await Digest(_dir, "copy"), await Digest(_dir, "app/[id]"));
    }

    [Theory]
    [InlineData("nope", "--hash-from 'nope': no such file or directory")]
    [InlineData("", "--hash-from '': the path is empty")]
    [InlineData("**/*.lock", "--hash-from '**/*.lock' matched no files")]
    [InlineData("!vendor/**", "--hash-from '!vendor/**': exclusions")]
    [InlineData("dangling", "--hash-from 'dangling': no such file or directory")]
    public async Task BadInput_IsAUsageErrorNamingTheArgument(string input, string expected)
    {
        Write(_dir, "go.sum", "sum");
        File.CreateSymbolicLink(Path.Combine(_dir, "dangling"), "gone");
        var e = await Assert.ThrowsAsync<S3PodException>(() => Digest(_dir, "go.sum", input));
        Assert.Equal(ExitCodes.OperationalError, ExitCodes.For(e.Kind));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain(_dir, e.Message);
    }

    [SkippableFact]
    public async Task NonRegularInput_IsRefused_NotRead()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "only the Linux file-system check exists so far (issue 13)");
        MakeFifo(Path.Combine(_dir, "fifo"));
        File.CreateSymbolicLink(Path.Combine(_dir, "zero"), "/dev/zero");
        foreach (var input in new[] { "fifo", "/dev/zero", "zero" })
        {
            var e = await Assert.ThrowsAsync<S3PodException>(() => Digest(_dir, input));
            Assert.Equal($"--hash-from '{input}': not a regular file or directory", e.Message);
        }
    }

    [Fact]
    public void Readme_ShowsTheTestedShellLines()
    {
        var readme = File.ReadAllText(Path.Combine(RepoRoot(), "README.md"));
        var section = readme[readme.IndexOf("## The key digest, exactly", StringComparison.Ordinal)..];
        section = section[..section.IndexOf("\n## ", 1, StringComparison.Ordinal)];
        foreach (var line in ShellFunctions) Assert.Contains(line + "\n", section);
        Assert.Contains($"`{FileLine.Replace("|", "\\|")}`", section);
        Assert.Contains($"`{SeveralLine.Replace("|", "\\|")}`", section);
    }

    private static string RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "S3Pod.sln"))) return d.FullName;
        throw new InvalidOperationException("no S3Pod.sln above " + AppContext.BaseDirectory);
    }
}
