using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace S3Pod.NativeTests;

/// <summary>The binary's contract (exit codes, stdout/stderr, secrets, config) as users and wrappers see it.</summary>
public sealed class ContractTests
{
    [SkippableFact]
    public void Version_IsBareAndFast()
    {
        Binary.SkipIfAbsent(needsServer: false);
        using var b = new Binary(useServer: false);
        var clock = Stopwatch.StartNew();
        var r = b.Exec("--version");
        Assert.Equal(0, r.Code);
        Assert.Matches(@"^\d+\.\d+\.\d+$", r.Out.Trim());
        // A sanity bound, not a benchmark; under qemu-user everything is an order of magnitude slower.
        if (!Binary.Emulated) Assert.True(clock.ElapsedMilliseconds < 2000, $"--version took {clock.ElapsedMilliseconds} ms");
    }

    [SkippableTheory]
    [InlineData("frobnicate")]
    [InlineData("upload", "only-a-key")]
    [InlineData("exists", "k", "--no-such-flag")]
    [InlineData("key", "t", "--hash-length", "x")]
    [InlineData("save", "--key", "k")]
    public void BadUsage_IsExitTwo_OneLine_NothingOnStdout(params string[] args)
    {
        Binary.SkipIfAbsent(needsServer: false);
        using var b = new Binary(useServer: false);
        var r = b.Exec(args);
        Assert.Equal(2, r.Code);
        Assert.Equal("", r.Out);
        Assert.Single(r.Err.Trim().Split('\n'));
    }

    [SkippableFact]
    public void MissingFile_NamesIt()
    {
        Binary.SkipIfAbsent(needsServer: false);
        using var b = new Binary(useServer: false);
        var r = b.Exec("upload", "k", "no-such-file.bin");
        Assert.Equal(2, r.Code);
        Assert.Contains("no-such-file.bin", r.Err);
    }

    [SkippableTheory]
    [InlineData("S3POD_ENDPOINT", "not-a-url", "is not an http")]
    [InlineData("S3POD_BUCKET", "s3pod-bucket-that-does-not-exist", "does not exist")]
    [InlineData("S3POD_S3_SECRET", "wrong-secret-value-123456", "credentials rejected")]
    public void BadSettings_AreExitTwo_NamingTheCause(string name, string value, string expected)
    {
        Binary.SkipIfAbsent();
        using var b = new Binary();
        b.CreateBucket();
        b.Env[name] = value;
        var r = b.Exec("exists", "some-key");
        Assert.Equal(2, r.Code);
        Assert.Contains(expected, r.Err);
        Assert.DoesNotContain("wrong-secret-value-123456", r.All);
        Assert.Single(r.Err.Trim().Split('\n'));
    }

    [SkippableFact]
    public void UnreachableEndpoint_IsExitTwo()
    {
        Binary.SkipIfAbsent(needsServer: false);
        using var b = new Binary(useServer: false);
        b.Env["S3POD_ENDPOINT"] = "http://127.0.0.1:9"; // discard port: nothing listens
        b.Env["S3POD_BUCKET"] = "bkt-x";
        b.Env["S3POD_S3_KEY_ID"] = "id";
        b.Env["S3POD_S3_SECRET"] = "secret";
        var r = b.Exec("exists", "k");
        Assert.Equal(2, r.Code);
        Assert.Contains("cannot reach http://127.0.0.1:9", r.Err);
    }

    [SkippableFact]
    public void MalformedConfig_IsExitTwo_NamingTheFile()
    {
        Binary.SkipIfAbsent(needsServer: false);
        using var b = new Binary(useServer: false);
        var config = Path.Combine(b.Home, ".config/s3pod/config.toml");
        Directory.CreateDirectory(Path.GetDirectoryName(config)!);
        File.WriteAllText(config, "endpoint = \"http://x\"\nbukcet = \"typo\"\n");
        var r = b.Exec("list");
        Assert.Equal(2, r.Code);
        Assert.Contains("config.toml", r.Err);
        Assert.Contains("bukcet", r.Err);
    }

    [SkippableFact]
    public void InitAndDoctor_AgainstTheRealServer_WithoutLeakingTheSecret()
    {
        Binary.SkipIfAbsent();
        using var b = new Binary();
        File.WriteAllText(Path.Combine(b.Home, "key-id"), Binary.KeyId + "\n");
        File.WriteAllText(Path.Combine(b.Home, "secret"), Binary.Secret + "\n");
        b.Env.Remove("S3POD_S3_KEY_ID");
        b.Env.Remove("S3POD_S3_SECRET");
        var init = b.Exec("init", "--create-bucket", "--prefix", "proj", "--key-file", Path.Combine(b.Home, "key-id"), "--secret-file", Path.Combine(b.Home, "secret"));
        Assert.True(init.Code == 0, init.All);
        var config = File.ReadAllText(Path.Combine(b.Home, ".config/s3pod/config.toml"));
        Assert.Contains("prefix = \"proj\"", config);
        Assert.DoesNotContain(Binary.Secret, config);

        // Only the config file now: endpoint and bucket come from env, credentials from the files it names.
        var doctor = b.Exec("doctor", "--json");
        Assert.True(doctor.Code == 0, doctor.All);
        Assert.DoesNotContain(Binary.Secret, doctor.All);
        using var json = JsonDocument.Parse(doctor.Out);
        Assert.True(json.RootElement.GetProperty("ok").GetBoolean());
        var checks = json.RootElement.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("name").GetString()).ToList();
        Assert.Equal(["config", "credentials", "store", "access", "canary", "conditional writes"], checks);
        // doctor probes afresh and reports what the server enforces, as the server's script declares it.
        var capabilities = json.RootElement.GetProperty("capabilities");
        Assert.Equal(Binary.ServerEnforces("create-only"), capabilities.GetProperty("createOnly").GetBoolean());
        Assert.Equal(Binary.ServerEnforces("compare-and-swap"), capabilities.GetProperty("compareAndSwap").GetBoolean());
        Assert.Equal(Binary.ServerEnforces("multipart-conditional"), capabilities.GetProperty("multipartConditional").GetBoolean());
        Assert.Equal(Binary.ServerEnforces("conditional-delete"), capabilities.GetProperty("conditionalDelete").GetBoolean());
        Assert.Contains(Binary.ServerEnforces("create-only") ? "create-only enforced" : "create-only (If-None-Match) IGNORED", doctor.Err);
    }

    [SkippableFact]
    public void SingleFileCommands_FollowCiCacher_AndInteropWithAwsCli()
    {
        Binary.SkipIfAbsent();
        using var b = new Binary();
        b.CreateBucket();
        var data = RandomNumberGenerator.GetBytes(30 * 1024 * 1024 + 7);
        b.WriteFile("art.bin", data);
        Assert.Equal(0, b.Exec("upload", "tools/art.bin", "art.bin").Code);
        var again = b.Exec("upload", "tools/art.bin", "art.bin");
        Assert.Equal(0, again.Code);
        Assert.Contains("skipping", again.Err);
        Assert.Equal(0, b.Exec("exists", "tools/art.bin").Code);
        Assert.Equal(1, b.Exec("exists", "tools/nope").Code);
        Assert.Equal("tools/art.bin\n", b.Exec("list", "tools/").Out);

        var aws = b.Shell($"{Binary.Aws} s3 cp s3://$BUCKET/tools/art.bin - | sha256sum");
        Assert.True(aws.Code == 0, aws.Err);
        Assert.StartsWith(Convert.ToHexStringLower(SHA256.HashData(data)), aws.Out);

        var dl = b.Exec("download", "tools/art.bin", "out/art.bin", "--sha256", Convert.ToHexStringLower(SHA256.HashData(data)));
        Assert.True(dl.Code == 0, dl.All);
        Assert.Equal(data, File.ReadAllBytes(Path.Combine(b.Work, "out/art.bin")));

        Assert.Equal(3, b.Exec("download", "tools/nope", "out/nope").Code);
        Assert.False(File.Exists(Path.Combine(b.Work, "out/nope")));
        Assert.Equal(0, b.Exec("delete", "tools/art.bin").Code);
        Assert.Equal(1, b.Exec("delete", "tools/art.bin").Code);
    }

    [SkippableFact]
    public void Download_FallsBackToUrl_VerifiesIt_AndCachesIt()
    {
        Binary.SkipIfAbsent();
        using var b = new Binary();
        b.CreateBucket();
        var payload = Encoding.UTF8.GetBytes("tool release contents\n");
        var sha = Convert.ToHexStringLower(SHA256.HashData(payload));
        using var server = new TinyHttp(payload);

        var bad = b.Exec("download", "tool.tgz", "tool.tgz", "--url", server.Url + "redirect", "--sha256", new string('a', 64));
        Assert.Equal(5, bad.Code);
        Assert.False(File.Exists(Path.Combine(b.Work, "tool.tgz")));
        Assert.Equal(1, b.Exec("exists", "tool.tgz").Code); // nothing unverified was cached

        var good = b.Exec("download", "tool.tgz", "tool.tgz", "--url", server.Url + "redirect", "--sha256", sha);
        Assert.True(good.Code == 0, good.All);
        Assert.Equal(payload, File.ReadAllBytes(Path.Combine(b.Work, "tool.tgz")));
        Assert.Equal(0, b.Exec("exists", "tool.tgz").Code);

        int before = server.Requests;
        File.Delete(Path.Combine(b.Work, "tool.tgz"));
        Assert.Equal(0, b.Exec("download", "tool.tgz", "tool.tgz", "--url", server.Url + "redirect").Code);
        Assert.Equal(before, server.Requests); // the second run hit the cache, not the URL
    }

    [SkippableFact]
    public void ObjectWrittenByAwsCli_DownloadsFine_AndTamperedOursIsRefused()
    {
        Binary.SkipIfAbsent();
        using var b = new Binary();
        b.CreateBucket();
        var put = b.Shell($"head -c 100000 /dev/urandom > theirs.bin && {Binary.Aws} s3 cp theirs.bin s3://$BUCKET/theirs.bin >/dev/null");
        Assert.True(put.Code == 0, put.Err);
        Assert.Equal(0, b.Exec("download", "theirs.bin", "got.bin").Code);
        Assert.Equal(File.ReadAllBytes(Path.Combine(b.Work, "theirs.bin")), File.ReadAllBytes(Path.Combine(b.Work, "got.bin")));

        b.WriteFile("ours.bin", "original content");
        Assert.Equal(0, b.Exec("upload", "ours.bin", "ours.bin").Code);
        // Replace the bytes but keep s3pod's recorded sha256 metadata, as a corrupting proxy would.
        var tamper = b.Shell($"{Binary.Aws} s3api head-object --bucket $BUCKET --key ours.bin --query Metadata --output json > meta.json && " +
            $"printf 'tampered content' > evil.bin && {Binary.Aws} s3api put-object --bucket $BUCKET --key ours.bin --body evil.bin --metadata file://meta.json >/dev/null");
        Assert.True(tamper.Code == 0, tamper.Err);
        File.WriteAllText(Path.Combine(b.Work, "dest.bin"), "keep me");
        var r = b.Exec("download", "ours.bin", "dest.bin");
        Assert.Equal(5, r.Code);
        Assert.Equal("keep me", File.ReadAllText(Path.Combine(b.Work, "dest.bin")));
    }

    [SkippableFact]
    public void JsonOutput_IsOneObject_OnEveryCommand_WithTheContractsFields()
    {
        Binary.SkipIfAbsent();
        using var b = new Binary();
        b.CreateBucket();
        b.WriteFile("f", "x");
        b.WriteFile("d/a", "y");
        // (arguments, expected exit code, a field the result must carry with this value, or null to only require the field)
        var cases = new (string[] Args, int Code, string Field, string? Value)[]
        {
            (["upload", "j", "f"], 0, "size", "1"),
            (["upload", "j", "f"], 0, "skippedReason", "exists"),
            (["exists", "j"], 0, "exists", "true"),
            (["list"], 0, "objects", null),
            (["download", "j", "g"], 0, "size", "1"),
            (["download", "nope", "g2"], 3, "action", "miss"),
            (["dir", "upload", "dk", "d"], 0, "uncompressedSize", "1"),
            (["dir", "download", "dk", "d2"], 0, "files", "1"),
            (["save", "--key", "ck", "--path", "d"], 0, "saved", "true"),
            (["restore", "--key", "ck", "--path", "d"], 0, "exactMatch", "true"),
            (["restore", "--key", "nothing", "--path", "d"], 0, "miss", null),
            (["explain", "--key", "nothing", "--path", "d"], 0, "hit", "false"),
            (["inspect", "ck"], 0, "entries", null),
            (["prune", "--older-than", "30d"], 0, "deleted", null),
            (["key", "k-{hash}", "--hash-from", "f"], 0, "key", null),
            (["delete", "j"], 0, "deleted", "true"),
            (["exists", "j"], 1, "exists", "false"),
            (["download", "k/../x", "g"], 2, "exitCode", "2"),
            (["frobnicate"], 2, "exitCode", "2"),
            (["--version"], 0, "version", null),
        };
        foreach (var (args, code, field, value) in cases)
        {
            var r = b.Exec([.. args, "--json"]);
            Assert.True(r.Code == code, $"{string.Join(' ', args)}: exit {r.Code}, expected {code}\n{r.All}");
            using var doc = JsonDocument.Parse(r.Out); // exactly one JSON document, nothing else
            Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind);
            Assert.True(doc.RootElement.TryGetProperty(field, out var got), $"{string.Join(' ', args)}: no '{field}' in {r.Out}");
            if (value is not null) Assert.Equal(value, got.ValueKind == JsonValueKind.String ? got.GetString() : got.GetRawText());
        }
    }

    /// <summary>A tiny HTTP origin for --url downloads: /redirect answers 302 to /file.</summary>
    private sealed class TinyHttp : IDisposable
    {
        private readonly HttpListener _listener;
        private int _requests;

        public TinyHttp(byte[] payload)
        {
            (_listener, Url) = HttpListeners.StartOnFreePort();
            _ = Task.Run(async () =>
            {
                while (_listener.IsListening)
                {
                    HttpListenerContext ctx;
                    try { ctx = await _listener.GetContextAsync(); } catch { return; }
                    Interlocked.Increment(ref _requests);
                    if (ctx.Request.Url!.AbsolutePath == "/redirect")
                    {
                        ctx.Response.StatusCode = 302;
                        ctx.Response.RedirectLocation = Url + "file";
                    }
                    else
                    {
                        ctx.Response.ContentLength64 = payload.Length;
                        await ctx.Response.OutputStream.WriteAsync(payload);
                    }
                    ctx.Response.Close();
                }
            });
        }

        public string Url { get; }
        public int Requests => Volatile.Read(ref _requests);
        public void Dispose() => _listener.Stop();
    }
}
