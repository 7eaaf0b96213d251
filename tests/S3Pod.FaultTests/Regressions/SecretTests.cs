using S3Pod.FaultTests.Harness;
using S3Pod.TestProxy;

namespace S3Pod.FaultTests.Regressions;

/// <summary>
/// Issue 9, defect 8: a password inside a malformed endpoint or --url, or a secret given where a
/// secret *file* is expected, must appear nowhere in stdout or stderr, and `init` must never write
/// it into the config file.
/// </summary>
public sealed class SecretTests
{
    private const string Password = "Pw-9f3kQ-not-for-logs";

    public static IEnumerable<object[]> Cases =>
    [
        ["--endpoint ftp://user:pw@host", new[] { "exists", "k", "--endpoint", $"ftp://user:{Password}@example.com" }],
        ["--endpoint user:pw@host", new[] { "exists", "k", "--endpoint", $"user:{Password}@example.com" }],
        ["--endpoint http://user:pw@", new[] { "exists", "k", "--endpoint", $"http://user:{Password}@" }],
        ["S3POD_ENDPOINT=http://user:pw@", new[] { "env:S3POD_ENDPOINT=http://user:" + Password + "@", "exists", "k" }],
        ["download --url http://user:pw@127.0.0.1:1/x", new[] { "download", "k", "out.bin", "--url", $"http://user:{Password}@127.0.0.1:1/x" }],
        ["init --endpoint ftp://user:pw@host", new[] { "init", "--endpoint", $"ftp://user:{Password}@example.com" }],
        ["init --endpoint user:pw@host", new[] { "init", "--endpoint", $"user:{Password}@example.com" }],
    ];

    [SkippableTheory, MemberData(nameof(Cases))]
    public async Task PasswordInAUrl_NeverPrinted_NeverWrittenToTheConfig(string name, string[] args)
    {
        var server = Servers.RequireMain();
        await using var box = await Sandbox.CreateAsync(server);
        var env = box.Env(server.Endpoint, shortTimeouts: true);
        var argv = new List<string>();
        foreach (var a in args)
        {
            if (a.StartsWith("env:", StringComparison.Ordinal)) env[a[4..a.IndexOf('=')]] = a[(a.IndexOf('=') + 1)..];
            else argv.Add(a);
        }
        var v = new List<Violation>();
        S3PodRun? last = null;
        foreach (var json in new[] { false, true })
        {
            var run = await S3PodProcess.RunAsync(box.Work, env, json ? [.. argv, "--json"] : argv);
            last = run;
            if (run.All.Contains(Password)) v.Add(new("leak", $"the password is printed{(json ? " (--json)" : "")}: {Contract.Shorten(run.All)}"));
            if (run.Killed) v.Add(new("hang", "killed"));
        }
        CheckConfig(box, Password, v);
        ResultLog.Record("regression", $"8 · {name}", "password never printed or saved", last, v);
        Assert.True(v.Count == 0, string.Join('\n', v));
    }

    /// <summary>
    /// `--secret-file` given the secret itself (a common slip): the argument is never echoed, and
    /// never saved as a path. With the env credentials present (they win), `init` passes its smoke
    /// test, which is how the secret ended up in the config.
    /// </summary>
    [SkippableTheory]
    [InlineData("exists", false)]
    [InlineData("init", false)]
    [InlineData("init", true)]
    public async Task SecretGivenAsSecretFile_IsNeverEchoed_NorSaved(string command, bool envCredentials)
    {
        var server = Servers.RequireMain();
        await using var box = await Sandbox.CreateAsync(server);
        var env = box.Env(server.Endpoint, shortTimeouts: true);
        var keyFile = Path.Combine(box.Home, "key-id");
        File.WriteAllText(keyFile, server.KeyId + "\n");
        if (!envCredentials)
        {
            env.Remove("S3POD_S3_KEY_ID");
            env.Remove("S3POD_S3_SECRET");
        }
        string[] args = command == "init"
            ? ["init", "--key-file", keyFile, "--secret-file", server.Secret, "--force"]
            : ["exists", "k", "--key-file", keyFile, "--secret-file", server.Secret];
        var v = new List<Violation>();
        S3PodRun? last = null;
        foreach (var json in new[] { false, true })
        {
            var run = await S3PodProcess.RunAsync(box.Work, env, json ? [.. args, "--json"] : args);
            last = run;
            if (run.All.Contains(server.Secret)) v.Add(new("leak", $"the secret is printed{(json ? " (--json)" : "")}: {Contract.Shorten(run.All)}"));
            if (!envCredentials && run.Code != 2) v.Add(new("failed", $"exit {run.Code}, expected 2 (no such secret file)"));
        }
        CheckConfig(box, server.Secret, v);
        ResultLog.Record("regression", $"8 · {command} --secret-file <the secret itself>{(envCredentials ? " (env credentials set)" : "")}", "secret never printed or saved", last, v);
        Assert.True(v.Count == 0, string.Join('\n', v));
    }

    /// <summary>
    /// Issue 16, item 8: a gateway token in the endpoint's query or path
    /// (<c>http://host:4880/?token=…</c>) was echoed in errors; it must be hidden as user-info is,
    /// in every message: a refused connection, a server answering 503, `doctor`.
    /// </summary>
    [SkippableTheory]
    [InlineData("query", "refused")]
    [InlineData("path", "503")]
    public async Task TokenInTheEndpoint_NeverPrinted(string where, string fault)
    {
        const string token = "Tk-7c2e9d-endpoint-token";
        var server = Servers.RequireMain();
        await using var box = await Sandbox.CreateAsync(server);
        await using var proxy = new FaultProxy(new Uri(server.Endpoint)).Add(On.Any, new Fault.Respond(503, "ServiceUnavailable", "Service Unavailable"), times: FaultRule.Always);
        var host = fault == "refused" ? "http://127.0.0.1:1" : proxy.Endpoint;
        var endpoint = where == "query" ? $"{host}/?token={token}" : $"{host}/{token}/";
        var env = box.Env(endpoint, shortTimeouts: true);
        env["S3POD_RETRIES"] = "1";
        File.WriteAllText(Path.Combine(box.Work, "src.bin"), "data");
        var v = new List<Violation>();
        S3PodRun? last = null;
        foreach (var args in new[] { new[] { "exists", "k" }, ["upload", "k", "src.bin"], ["download", "k", "out.bin"], ["doctor"] })
        {
            foreach (var json in new[] { false, true })
            {
                var run = await S3PodProcess.RunAsync(box.Work, env, json ? [.. args, "--json"] : args);
                last = run;
                if (run.All.Contains(token)) v.Add(new("leak", $"the token is printed by {string.Join(' ', args)}{(json ? " --json" : "")}: {Contract.Shorten(run.All)}"));
                if (run.Killed) v.Add(new("hang", "killed"));
            }
        }
        ResultLog.Record("regression", $"16 · 8 · token in the endpoint's {where} · {fault}", "token never printed", last, v);
        Assert.True(v.Count == 0, string.Join('\n', v));
    }

    private static void CheckConfig(Sandbox box, string secret, List<Violation> v)
    {
        var config = Path.Combine(box.Home, ".config/s3pod/config.toml");
        if (File.Exists(config) && File.ReadAllText(config).Contains(secret))
            v.Add(new("leak", $"written into {Path.GetRelativePath(box.Home, config)}"));
    }
}
