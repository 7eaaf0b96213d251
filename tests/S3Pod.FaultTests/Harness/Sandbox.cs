using S3Pod.TestProxy;

namespace S3Pod.FaultTests.Harness;

/// <summary>
/// One test's world: a bucket of its own, a working directory, a HOME, and a TMPDIR that only the
/// binary uses (so a temp file it leaves behind is seen). The binary runs with a clean environment
/// (no inherited AWS_* or S3POD_*), either directly against the server (setup and verification) or
/// through a <see cref="FaultProxy"/> with the suite's short timeouts.
/// </summary>
internal sealed class Sandbox : IAsyncDisposable
{
    /// <summary>
    /// What a fixed binary reads (issue 9): small bounds so persistent faults end in seconds.
    /// Today's binary ignores them, which is part of what the "before" table shows.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> ShortTimeouts = new Dictionary<string, string>
    {
        ["S3POD_CONNECT_TIMEOUT"] = "2s",
        ["S3POD_FIRST_BYTE_TIMEOUT"] = "2s",
        ["S3POD_IDLE_TIMEOUT"] = "2s",
        ["S3POD_RETRIES"] = "3",
    };

    /// <summary>A case that ends later than this (but before the hard kill) is "slow".</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    public string Root { get; }
    public string Work { get; }
    public string Home { get; }
    /// <summary>The binary's TMPDIR: must be empty after every run.</summary>
    public string Tmp { get; }
    public TestBucket Bucket { get; }
    public ServerInfo Server => Bucket.Server;

    private Sandbox(string root, TestBucket bucket)
    {
        Root = root;
        Work = Directory.CreateDirectory(Path.Combine(root, "work")).FullName;
        Home = Directory.CreateDirectory(Path.Combine(root, "home")).FullName;
        Tmp = Directory.CreateDirectory(Path.Combine(root, "tmp")).FullName;
        Bucket = bucket;
    }

    public static async Task<Sandbox> CreateAsync(ServerInfo server)
    {
        var bucket = await TestBucket.CreateAsync(server); // first: when it fails, no directory is left behind
        return new(Directory.CreateTempSubdirectory("s3pod-ft-").FullName, bucket);
    }

    public Dictionary<string, string> Env(string endpoint, bool shortTimeouts)
    {
        var env = new Dictionary<string, string>
        {
            ["HOME"] = Home,
            ["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin",
            ["TMPDIR"] = Tmp,
            ["S3POD_ENDPOINT"] = endpoint,
            ["S3POD_REGION"] = Server.Region,
            ["S3POD_BUCKET"] = Bucket.Name,
            ["S3POD_S3_KEY_ID"] = Server.KeyId,
            ["S3POD_S3_SECRET"] = Server.Secret,
        };
        foreach (var name in new[] { "DOCKER_HOST", "DOCKER_API_VERSION" })
            if (Environment.GetEnvironmentVariable(name) is { } v) env[name] = v;
        if (shortTimeouts)
            foreach (var (k, v) in ShortTimeouts) env[k] = v;
        return env;
    }

    /// <summary>Setup and verification: straight to the server, default settings.</summary>
    public Task<S3PodRun> DirectInAsync(string cwd, params string[] args) =>
        S3PodProcess.RunAsync(cwd, Env(Server.Endpoint, shortTimeouts: false), args);

    public Task<S3PodRun> DirectAsync(params string[] args) => DirectInAsync(Work, args);

    /// <summary>The run under test: through the proxy, with the short timeouts and the hard kill.</summary>
    public Task<S3PodRun> ThroughInAsync(FaultProxy proxy, string cwd, params string[] args) =>
        S3PodProcess.RunAsync(cwd, Env(proxy.Endpoint, shortTimeouts: true), args);

    public Task<S3PodRun> ThroughAsync(FaultProxy proxy, params string[] args) => ThroughInAsync(proxy, Work, args);

    /// <summary>Files the binary left in its TMPDIR.</summary>
    public IReadOnlyList<string> TmpLeftovers() =>
        Directory.EnumerateFileSystemEntries(Tmp, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(Tmp, p)).ToList();

    public async ValueTask DisposeAsync()
    {
        await Bucket.DisposeAsync();
        try { Directory.Delete(Root, true); } catch { /* best effort */ }
    }
}
