using System.Diagnostics;
using System.Text.Json;
using S3Pod.Commands;

namespace S3Pod.UnitTests;

/// <summary>The real parser and commands, in-process, against the local store: exit codes, stdout, stderr.</summary>
public class CliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("s3pod-cli-").FullName;
    private readonly Dictionary<string, string> _env = new();

    public CliTests()
    {
        _env["HOME"] = _dir;
        _env["S3POD_STORE"] = Path.Combine(_dir, "store");
    }

    public void Dispose() => Directory.Delete(_dir, true);

    private async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var app = new CliApp(n => _env.TryGetValue(n, out var v) ? v : null, stdout, stderr, false, _dir);
        var code = await app.RunAsync(args, default);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public async Task Version_PrintsBareVersion()
    {
        var (code, stdout, _) = await Run("--version");
        Assert.Equal(0, code);
        Assert.Matches(@"^\d+\.\d+\.\d+\n$", stdout.Replace("\r", ""));
    }

    [Theory]
    [InlineData("bogus")]
    [InlineData("upload")]
    [InlineData("upload", "k", "f", "--frobnicate")]
    [InlineData("restore", "--path", "x")]
    [InlineData("key", "x", "--hash-length", "nine")]
    public async Task BadUsage_ExitsTwo_WithOneLine(params string[] args)
    {
        var (code, stdout, stderr) = await Run(args);
        Assert.Equal(ExitCodes.OperationalError, code);
        Assert.Equal("", stdout);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.StartsWith("s3pod: ", stderr);
    }

    [Fact]
    public async Task UploadExistsDownloadDelete_FollowCiCacherExitCodes()
    {
        File.WriteAllText(Path.Combine(_dir, "f.bin"), "payload");
        Assert.Equal(0, (await Run("upload", "k", "f.bin")).Code);
        var skipped = await Run("upload", "k", "f.bin");
        Assert.Equal(0, skipped.Code);
        Assert.Contains("skipping", skipped.Err);
        Assert.Equal(0, (await Run("exists", "k")).Code);
        Assert.Equal(1, (await Run("exists", "nope")).Code);
        Assert.Equal(0, (await Run("download", "k", "out/f.bin")).Code);
        Assert.Equal("payload", File.ReadAllText(Path.Combine(_dir, "out/f.bin")));
        var miss = await Run("download", "nope", "out/g.bin");
        Assert.Equal(ExitCodes.CacheMiss, miss.Code);
        Assert.False(File.Exists(Path.Combine(_dir, "out/g.bin")));
        Assert.Equal(0, (await Run("delete", "k")).Code);
        Assert.Equal(1, (await Run("delete", "k")).Code);
    }

    [Fact]
    public async Task Download_WrongSha256_IsIntegrityError_DestUntouched()
    {
        File.WriteAllText(Path.Combine(_dir, "f.bin"), "payload");
        File.WriteAllText(Path.Combine(_dir, "dest"), "previous");
        await Run("upload", "k", "f.bin");
        var r = await Run("download", "k", "dest", "--sha256", new string('0', 64));
        Assert.Equal(ExitCodes.Integrity, r.Code);
        Assert.Equal("previous", File.ReadAllText(Path.Combine(_dir, "dest")));
        Assert.Empty(Directory.GetFiles(_dir, ".dest*"));
    }

    [Fact]
    public async Task Download_TamperedObject_IsIntegrityError()
    {
        File.WriteAllText(Path.Combine(_dir, "f.bin"), "payload");
        await Run("upload", "k", "f.bin");
        File.WriteAllText(Path.Combine(_dir, "store/k"), "PAYLOAD"); // same size, different bytes
        var r = await Run("download", "k", "dest");
        Assert.Equal(ExitCodes.Integrity, r.Code);
        Assert.False(File.Exists(Path.Combine(_dir, "dest")));
    }

    [Fact]
    public async Task Json_IsOneObjectOnStdout()
    {
        File.WriteAllText(Path.Combine(_dir, "f.bin"), "payload");
        await Run("upload", "a/1", "f.bin");
        await Run("upload", "a/2", "f.bin");
        var (code, stdout, _) = await Run("list", "a/", "--json");
        Assert.Equal(0, code);
        using var doc = JsonDocument.Parse(stdout);
        Assert.Equal(2, doc.RootElement.GetProperty("objects").GetArrayLength());
        Assert.Equal(7, doc.RootElement.GetProperty("objects")[0].GetProperty("size").GetInt64());

        var plain = await Run("list", "a/");
        Assert.Equal("a/1\na/2\n", plain.Out.Replace("\r", ""));
    }

    [Fact]
    public async Task NoBucket_AnnouncesLocalStoreOnStderr()
    {
        var (_, stdout, stderr) = await Run("exists", "x");
        Assert.Contains("local store file://", stderr);
        Assert.Equal("", stdout);
    }

    [Fact]
    public async Task Key_WithArchSuffixFromConfig()
    {
        File.WriteAllText(Path.Combine(_dir, "go.sum"), "sum\n");
        var plain = await Run("key", "go/{hash}.tar.zst", "--hash-from", "go.sum");
        Assert.Matches(@"^go/[0-9a-f]{16}\.tar\.zst$", plain.Out.Trim());
        _env["S3POD_ARCH_SUFFIX"] = "true";
        var arch = await Run("key", "go/{hash}.tar.zst", "--hash-from", "go.sum");
        Assert.Matches(@"^go/[0-9a-f]{16}-[a-z]+-[a-z0-9]+\.tar\.zst$", arch.Out.Trim());
    }

    [Fact]
    public async Task Restore_Miss_IsZeroOrThreeWithFailOnMiss()
    {
        var miss = await Run("restore", "--key", "k", "--path", "deps", "--json");
        Assert.Equal(0, miss.Code);
        using var doc = JsonDocument.Parse(miss.Out);
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("matchedKey").ValueKind);
        Assert.Equal(3, (await Run("restore", "--key", "k", "--path", "deps", "--fail-on-miss")).Code);
    }

    [Fact]
    public async Task MalformedConfig_ExitsTwo_NamingTheFile()
    {
        var config = Path.Combine(_dir, "bad.toml");
        File.WriteAllText(config, "bucket = [");
        _env["S3POD_CONFIG"] = config;
        var (code, _, stderr) = await Run("exists", "k");
        Assert.Equal(2, code);
        Assert.Contains("bad.toml", stderr);
    }

    [Fact]
    public async Task Init_WritesConfigThatLaterRunsUse()
    {
        var config = Path.Combine(_dir, "cfg/config.toml");
        _env["S3POD_CONFIG"] = config;
        _env.Remove("S3POD_STORE"); // the env would win over the file
        var (code, _, stderr) = await Run("init", "--prefix", "proj", "--store", Path.Combine(_dir, "store2"));
        Assert.True(code == 0, stderr);
        var text = File.ReadAllText(config);
        Assert.Contains("prefix = \"proj\"", text);
        File.WriteAllText(Path.Combine(_dir, "f"), "x");
        await Run("upload", "k", "f");
        Assert.True(File.Exists(Path.Combine(_dir, "store2/proj/k")));
    }

    [SkippableFact]
    public async Task Upload_RefusesWhatIsNotARegularFile_QuicklyAndWithoutStoringAnything()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "FIFOs, /dev/zero and /proc are Linux fixtures");
        var fifo = Path.Combine(_dir, "fifo");
        Process.Start("mkfifo", fifo)!.WaitForExit();
        File.CreateSymbolicLink(Path.Combine(_dir, "loop-a"), Path.Combine(_dir, "loop-b"));
        File.CreateSymbolicLink(Path.Combine(_dir, "loop-b"), Path.Combine(_dir, "loop-a"));
        Directory.CreateDirectory(Path.Combine(_dir, "adir"));
        foreach (var (source, expected) in new[] { (fifo, "not a regular file"), ("/dev/zero", "not a regular file"), ("/proc/self/status", "size of 0"),
                     (Path.Combine(_dir, "loop-a"), "cannot read"), (Path.Combine(_dir, "adir"), "is a directory"), ("missing", "no such file") })
        {
            var clock = Stopwatch.StartNew();
            var (code, stdout, stderr) = await Run("upload", "k", source);
            Assert.True(code == 2, $"{source}: exit {code}, {stderr}");
            Assert.Contains(expected, stderr);
            Assert.Single(stderr.Trim().Split('\n'), line => !line.Contains("no bucket configured"));
            Assert.DoesNotContain("internal error", stderr);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"{source} took {clock.Elapsed}");
        }
        Assert.Equal(1, (await Run("exists", "k")).Code);
    }

    [Fact]
    public async Task RestoreKey_MayEndWithASlash()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "deps"));
        File.WriteAllText(Path.Combine(_dir, "deps/a"), "x");
        Assert.Equal(0, (await Run("save", "--key", "yarn/linux/abc", "--path", "deps")).Code);
        var (code, stdout, stderr) = await Run("restore", "--key", "yarn/linux/zzz", "--restore-key", "yarn/linux/", "--path", "deps", "--json");
        Assert.True(code == 0, stderr);
        Assert.Equal("yarn/linux/abc", JsonDocument.Parse(stdout).RootElement.GetProperty("matchedKey").GetString());
    }

    [Fact]
    public async Task RestoreMiss_SaysWhy_InTheLogAndTheJson()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "deps"));
        File.WriteAllText(Path.Combine(_dir, "deps/a"), "x");
        await Run("save", "--key", "npm-abc", "--path", "deps", "--scope", "refs/heads/main");
        var (code, stdout, stderr) = await Run("restore", "--key", "npm-abc", "--path", "deps", "--path", "other", "--scope", "refs/heads/main", "--json");
        Assert.Equal(0, code);
        Assert.Contains("saved with other paths", stderr);
        var miss = JsonDocument.Parse(stdout).RootElement.GetProperty("miss");
        Assert.Equal("the key exists but was saved with other paths", miss.GetProperty("summary").GetString());
        Assert.Equal("npm-abc", miss.GetProperty("nearest")[0].GetProperty("key").GetString());

        var other = await Run("explain", "--key", "npm-abc", "--path", "deps", "--scope", "refs/heads/feature", "--restore-key", "yarn-", "--json");
        var reasons = JsonDocument.Parse(other.Out).RootElement.GetProperty("miss").GetProperty("reasons").EnumerateArray().Select(r => r.GetString()).ToList();
        Assert.Contains(reasons, r => r!.Contains("exists in scope refs/heads/main, which this restore does not read"));
        Assert.Contains(reasons, r => r!.Contains("restore key 'yarn-' matched no entry"));

        var near = await Run("explain", "--key", "npm-abd", "--path", "deps", "--scope", "refs/heads/main", "--json");
        var nearest = JsonDocument.Parse(near.Out).RootElement.GetProperty("miss").GetProperty("nearest")[0];
        Assert.Equal("npm-abc", nearest.GetProperty("key").GetString());
        Assert.Contains("differs from character 7", nearest.GetProperty("differences")[0].GetString());
    }
}
