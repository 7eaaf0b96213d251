using System.Diagnostics;
using System.Text.Json;

namespace S3Pod.NativeTests;

/// <summary>Directory caches, save/restore and docker images, through the native binary and the real server.</summary>
public sealed class CacheTests
{
    private static void MakeTree(string root)
    {
        Directory.CreateDirectory(Path.Combine(root, "pkg/lib/empty"));
        File.WriteAllText(Path.Combine(root, "pkg/lib/a.js"), "module.exports = 1;\n");
        File.WriteAllText(Path.Combine(root, "pkg/ünïcödé name.txt"), "unicode\n");
        File.WriteAllBytes(Path.Combine(root, "pkg/blob.bin"), Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7)).ToArray());
        var deep = Path.Combine(root, "pkg", string.Join('/', Enumerable.Repeat("very-long-directory-name-segment", 8)));
        Directory.CreateDirectory(deep);
        File.WriteAllText(Path.Combine(deep, "leaf.txt"), "deep\n");
        File.CreateSymbolicLink(Path.Combine(root, "pkg/link-rel"), "lib/a.js");
        File.CreateSymbolicLink(Path.Combine(root, "pkg/link-abs"), "/etc/hostname");
        Process.Start("ln", [Path.Combine(root, "pkg/lib/a.js"), Path.Combine(root, "pkg/hard.js")])!.WaitForExit();
        File.SetUnixFileMode(Path.Combine(root, "pkg/lib/a.js"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead);
    }

    private static string Listing(Binary b, string dir) =>
        // Type, mode, size, link target and mtime (to the microsecond PAX keeps) of everything below
        // the root, plus every file's content hash.
        b.Shell($"cd '{dir}' && find . -mindepth 1 -printf '%p|%y|%m|%s|%l|%T@\\n' | sed -E 's/([0-9]+\\.[0-9]{{6}})[0-9]*$/\\1/' | LC_ALL=C sort && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum").Out;

    [SkippableFact]
    public void DirUpload_IsReadableByAwsCliZstdTar_AndTheReverse()
    {
        Binary.SkipIfAbsent();
        Binary.SkipOnWine("Linux symlinks (Wine shows one as the file it points to) and POSIX modes, which the listing compares; Windows trees are in WindowsTests");
        using var b = new Binary();
        b.CreateBucket();
        var src = Path.Combine(b.Work, "src");
        MakeTree(src);
        var up = b.Exec("dir", "upload", "deps/v1.tar.zst", "src");
        Assert.True(up.Code == 0, up.All);

        // Ours, restored by the standard tools.
        var std = b.Shell($"mkdir std && {Binary.Aws} s3 cp s3://$BUCKET/deps/v1.tar.zst - | zstd -d | tar -x -C std");
        Assert.True(std.Code == 0, std.Err);
        Assert.Equal(Listing(b, src), Listing(b, Path.Combine(b.Work, "std")));
        Assert.Equal(b.Shell("stat -c %i std/pkg/lib/a.js").Out, b.Shell("stat -c %i std/pkg/hard.js").Out); // hard link kept

        // Ours, restored by us.
        var down = b.Exec("dir", "download", "deps/v1.tar.zst", "ours");
        Assert.True(down.Code == 0, down.All);
        Assert.Equal(Listing(b, src), Listing(b, Path.Combine(b.Work, "ours")));

        // Theirs (GNU tar --posix | zstd | aws), restored by us.
        var theirs = b.Shell($"tar --posix -C src -cf - . | zstd -q -3 | {Binary.Aws} s3 cp - s3://$BUCKET/deps/theirs.tar.zst");
        Assert.True(theirs.Code == 0, theirs.Err);
        var fromTheirs = b.Exec("dir", "download", "deps/theirs.tar.zst", "from-theirs");
        Assert.True(fromTheirs.Code == 0, fromTheirs.All);
        Assert.Equal(Listing(b, src), Listing(b, Path.Combine(b.Work, "from-theirs")));

        Assert.Equal(3, b.Exec("dir", "download", "deps/missing.tar.zst", "x").Code);
        Assert.False(Directory.Exists(Path.Combine(b.Work, "x")));
    }

    [SkippableTheory]
    [InlineData("escape", "sym('link', '/tmp'); reg('link/s3pod-owned')", "link/s3pod-owned")]
    [InlineData("dotdot", "reg('a/../../outside')", "../outside")]
    [InlineData("absolute", "reg('/tmp/s3pod-abs-evil')", "s3pod-abs-evil")]
    [InlineData("hardlink-out", "hard('h', '/etc/passwd')", "h")]
    [InlineData("device", "dev('d')", "d")]
    public void MaliciousArchives_AreRefused_DestinationUntouched(string name, string build, string entry)
    {
        Binary.SkipIfAbsent();
        using var b = new Binary();
        b.CreateBucket();
        // Built with Python's tarfile, which writes what it is told: the archives a malicious cache would hold.
        var py = "import tarfile, io\n" +
                 "t = tarfile.open('evil.tar', 'w', format=tarfile.PAX_FORMAT)\n" +
                 "def reg(n):\n  i = tarfile.TarInfo(n); d = b'pwned'; i.size = len(d); t.addfile(i, io.BytesIO(d))\n" +
                 "def sym(n, target):\n  i = tarfile.TarInfo(n); i.type = tarfile.SYMTYPE; i.linkname = target; t.addfile(i)\n" +
                 "def hard(n, target):\n  i = tarfile.TarInfo(n); i.type = tarfile.LNKTYPE; i.linkname = target; t.addfile(i)\n" +
                 "def dev(n):\n  i = tarfile.TarInfo(n); i.type = tarfile.CHRTYPE; i.devmajor = 1; i.devminor = 3; t.addfile(i)\n" +
                 "reg('ok.txt')\n" + build.Replace("; ", "\n") + "\nt.close()\n";
        File.WriteAllText(Path.Combine(b.Work, "evil.py"), py);
        var made = b.Shell($"python3 evil.py && zstd -q evil.tar -o evil.tzst && {Binary.Aws} s3 cp evil.tzst s3://$BUCKET/evil/{name} >/dev/null");
        Assert.True(made.Code == 0, made.Err);
        var dest = Path.Combine(b.Work, "dest");
        Directory.CreateDirectory(dest);
        File.WriteAllText(Path.Combine(dest, "existing.txt"), "keep");
        var before = Listing(b, dest);
        var r = b.Exec("dir", "download", $"evil/{name}", "dest");
        Assert.Equal(5, r.Code);
        Assert.Contains(entry, r.Err);
        Assert.Equal(before, Listing(b, dest));
        Assert.False(File.Exists("/tmp/s3pod-owned") || File.Exists("/tmp/s3pod-abs-evil") || File.Exists(Path.Combine(b.Work, "outside")));
    }

    [SkippableFact]
    public void TruncatedOrForeignObjects_AreIntegrityErrors()
    {
        Binary.SkipIfAbsent();
        using var b = new Binary();
        b.CreateBucket();
        var src = Path.Combine(b.Work, "src");
        MakeTree(src);
        Assert.Equal(0, b.Exec("dir", "upload", "good", "src").Code);
        var cut = b.Shell($"{Binary.Aws} s3 cp s3://$BUCKET/good whole.tzst >/dev/null && head -c $(( $(stat -c %s whole.tzst) / 2 )) whole.tzst > cut.tzst && {Binary.Aws} s3 cp cut.tzst s3://$BUCKET/cut >/dev/null && " +
                          $"echo 'just text' | {Binary.Aws} s3 cp - s3://$BUCKET/text");
        Assert.True(cut.Code == 0, cut.Err);
        var truncated = b.Exec("dir", "download", "cut", "out1");
        Assert.Equal(5, truncated.Code);
        Assert.Contains("truncated or corrupt", truncated.Err);
        Assert.False(Directory.Exists(Path.Combine(b.Work, "out1")) && Directory.EnumerateFileSystemEntries(Path.Combine(b.Work, "out1")).Any());
        var text = b.Exec("dir", "download", "text", "out2");
        Assert.Equal(5, text.Code);
        Assert.Contains("not a tar.zst archive", text.Err);
    }

    [SkippableFact]
    public void SaveRestore_AcrossJobs_WithScopes_AndPathsInHomeAndWorkspace()
    {
        Binary.SkipIfAbsent();
        Binary.SkipOnWine("'~' is %USERPROFILE%, which Wine sets from its prefix (shared by every test), so each job cannot have its own home; workspace paths across jobs are in WindowsTests");
        using var job1 = new Binary();
        job1.CreateBucket();
        job1.WriteFile("node_modules/x/index.js", "main-branch");
        Directory.CreateDirectory(Path.Combine(job1.Home, ".npm/_cacache"));
        File.WriteAllText(Path.Combine(job1.Home, ".npm/_cacache/entry"), "npm cache");
        var save = job1.Exec("save", "--key", "npm-linux-abc", "--path", "node_modules", "--path", "~/.npm", "--scope", "refs/heads/main", "--json");
        Assert.True(save.Code == 0, save.All);
        Assert.True(JsonDocument.Parse(save.Out).RootElement.GetProperty("saved").GetBoolean());

        // Job 2: another runner (other HOME and workspace), a pull request reading main's cache.
        using var job2 = new Binary();
        job2.Env["S3POD_BUCKET"] = job1.Bucket;
        var restore = job2.Exec("restore", "--key", "npm-linux-def", "--restore-key", "npm-linux-", "--path", "node_modules", "--path", "~/.npm",
            "--scope", "refs/pull/7/merge", "--fallback-scope", "refs/heads/main", "--json");
        Assert.True(restore.Code == 0, restore.All);
        var json = JsonDocument.Parse(restore.Out).RootElement;
        Assert.Equal("npm-linux-abc", json.GetProperty("matchedKey").GetString());
        Assert.False(json.GetProperty("exactMatch").GetBoolean());
        Assert.Equal("refs/heads/main", json.GetProperty("matchedScope").GetString());
        Assert.Equal("main-branch", File.ReadAllText(Path.Combine(job2.Work, "node_modules/x/index.js")));
        Assert.Equal("npm cache", File.ReadAllText(Path.Combine(job2.Home, ".npm/_cacache/entry")));

        // The PR saves into its own scope; main's entry is unchanged.
        File.WriteAllText(Path.Combine(job2.Work, "node_modules/x/index.js"), "pr-branch");
        Assert.Equal(0, job2.Exec("save", "--key", "npm-linux-abc", "--path", "node_modules", "--path", "~/.npm", "--scope", "refs/pull/7/merge").Code);
        using var job3 = new Binary();
        job3.Env["S3POD_BUCKET"] = job1.Bucket;
        var main = job3.Exec("restore", "--key", "npm-linux-abc", "--path", "node_modules", "--path", "~/.npm", "--scope", "refs/heads/main", "--json");
        Assert.True(JsonDocument.Parse(main.Out).RootElement.GetProperty("exactMatch").GetBoolean());
        Assert.Equal("main-branch", File.ReadAllText(Path.Combine(job3.Work, "node_modules/x/index.js")));

        var inspect = job3.Exec("inspect", "npm-linux-abc", "--json");
        Assert.True(inspect.Code == 0, inspect.All);
        Assert.Equal(2, JsonDocument.Parse(inspect.Out).RootElement.GetProperty("entries").GetArrayLength());

        var miss = job3.Exec("restore", "--key", "other", "--path", "node_modules", "--fail-on-miss");
        Assert.Equal(3, miss.Code);
    }

    [SkippableFact]
    public void Interrupt_DuringUpload_AbortsTheMultipartUpload_AndLeavesNoObject()
    {
        Binary.SkipIfAbsent();
        Binary.SkipOnWine("Windows has no SIGINT; Ctrl-C is a console event, which a process started with redirected output does not get");
        Skip.If(Binary.Emulated, "SIGINT sent to qemu-user does not reach the emulated binary's handler (measured: no 'cancelled'); covered by the native x64 run");
        using var b = new Binary();
        b.CreateBucket();
        var made = b.Shell("head -c 600000000 /dev/urandom > big.bin");
        Assert.True(made.Code == 0, made.Err);
        // --force: an unconditional write of this size is a multipart upload (a create-only one would
        // be a single streamed PUT on RGW). Interrupt once the upload is really under way, whatever
        // the machine's load: SIGINT before the runtime's handler is installed would just kill it.
        using var p = b.Start("upload", "big.bin", "big.bin", "--force");
        var started = Stopwatch.StartNew();
        while (!b.Shell($"{Binary.Aws} s3api list-multipart-uploads --bucket $BUCKET --output json").Out.Contains("\"UploadId\"") && started.Elapsed < TimeSpan.FromSeconds(30))
            Thread.Sleep(100);
        Assert.False(p.HasExited, "upload finished before it could be interrupted");
        Process.Start("kill", ["-INT", p.Id.ToString()])!.WaitForExit();
        Assert.True(p.WaitForExit(TimeSpan.FromSeconds(40)));
        Assert.NotEqual(0, p.ExitCode);
        Assert.Contains("cancelled", p.StandardError.ReadToEnd());
        var uploads = b.Shell($"{Binary.Aws} s3api list-multipart-uploads --bucket $BUCKET --output json");
        Assert.True(uploads.Code == 0, uploads.Err);
        Assert.DoesNotContain("\"UploadId\"", uploads.Out);
        Assert.Equal(1, b.Exec("exists", "big.bin").Code);
    }

    [SkippableFact]
    public void DockerImages_RoundTripThroughTheStore()
    {
        Binary.SkipIfAbsent();
        Binary.SkipOnWine("docker-in-wine: s3pod.exe starts docker as a Windows program, and the Linux docker CLI is not one");
        Skip.If(Environment.GetEnvironmentVariable("S3POD_TEST_DOCKER") != "1", "no Docker engine: S3POD_TEST_DOCKER is not 1 (tests/servers/docker.sh starts one)");
        var image = Environment.GetEnvironmentVariable("S3POD_TEST_DOCKER_IMAGE") ?? "s3pod-test/busybox:1";
        using var b = new Binary();
        b.CreateBucket();
        var tag = $"s3pod-test/roundtrip:{Guid.NewGuid():N}"[..40];
        Assert.Equal(0, b.Shell($"docker tag {image} {tag}").Code);
        Assert.Equal(1, b.Exec("docker", "exists", "img/rt").Code);
        var up = b.Exec("docker", "upload", "img/rt", tag);
        Assert.True(up.Code == 0, up.All);
        Assert.Equal(0, b.Exec("docker", "exists", "img/rt").Code);
        Assert.Equal(0, b.Shell($"docker rmi {tag} >/dev/null").Code);
        var down = b.Exec("docker", "download", "img/rt");
        Assert.True(down.Code == 0, down.All);
        var run = b.Shell($"docker run --rm --network none {tag} echo alive");
        Assert.True(run.Code == 0, run.Err);
        Assert.Equal("alive\n", run.Out);
        b.Shell($"docker rmi {tag} >/dev/null || true");

        // The stream is standard: zstd -d | docker load works without s3pod.
        var std = b.Shell($"{Binary.Aws} s3 cp s3://$BUCKET/img/rt - | zstd -d | docker load");
        Assert.True(std.Code == 0, std.Err);
        Assert.Contains(tag, std.Out);
        b.Shell($"docker rmi {tag} >/dev/null || true");

        var missing = b.Exec("docker", "upload", "img/none", "s3pod-test/no-such-image:0");
        Assert.Equal(2, missing.Code);
        Assert.Equal(1, b.Exec("exists", "img/none").Code); // a failed docker save leaves nothing behind
        Assert.Equal(3, b.Exec("docker", "download", "img/absent").Code);
    }
}
