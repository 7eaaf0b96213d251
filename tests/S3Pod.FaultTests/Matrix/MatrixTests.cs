using S3Pod.FaultTests.Harness;
using S3Pod.TestProxy;

namespace S3Pod.FaultTests.Matrix;

/// <summary>
/// The fault × operation matrix: each case prepares its data directly on the server, runs one
/// command through the proxy with one fault, and checks the whole contract (see
/// <see cref="Contract"/>, <see cref="Operation.VerifyAsync"/>): right exit code and message,
/// one JSON object, bounded time, byte-exact or untouched destination, no temp files, no
/// incomplete multipart uploads. One class per operation, so operations run in parallel.
/// </summary>
internal static class MatrixRunner
{
    /// <summary>
    /// Cases in flight at once, across the operation classes. Most of a case is waiting (timeouts,
    /// throttling), but the 2 s timeouts must not fire because 2 cores are busy: 5 keeps the
    /// matrix near 3 minutes once nothing hangs.
    /// </summary>
    private static readonly SemaphoreSlim Slots = new(5);

    internal static async Task RunCaseAsync(Operation op, FaultCase fault)
    {
        var server = Servers.RequireMain();
        await Slots.WaitAsync();
        try
        {
            await using var box = await Sandbox.CreateAsync(server);
            try
            {
                await op.PrepareAsync(box);
                var watched = op.WatchedDirs(box).ToDictionary(d => d, Tree.Names);
                S3PodRun run;
                string trace;
                List<string> proxyProblems;
                bool fired;
                await using (var proxy = new FaultProxy(new Uri(server.Endpoint)))
                {
                    foreach (var rule in fault.Rules(op)) proxy.Add(rule);
                    run = await box.ThroughInAsync(proxy, op.Cwd(box), [.. op.Args, "--json"]);
                    trace = proxy.Describe();
                    proxyProblems = [.. proxy.Problems];
                    fired = proxy.Requests.Any(r => r.Fault is not null);
                }

                var violations = Contract.Check(run, fault.Expect, json: true);
                foreach (var p in proxyProblems) violations.Add(new("proxy", p));
                // A case whose rule matched nothing tested nothing.
                if (!fired) violations.Add(new("proxy", "the fault never fired (no request matched its rule)"));
                foreach (var left in box.TmpLeftovers()) violations.Add(new("leak", $"left in TMPDIR: {left}"));
                foreach (var (dir, before) in watched)
                    foreach (var added in Tree.Names(dir).Except(before).Where(n => n != op.DestinationName))
                        violations.Add(new("leak", $"left next to the destination: {Path.GetRelativePath(box.Root, Path.Combine(dir, added))}"));
                foreach (var upload in await box.Bucket.IncompleteUploadsAsync())
                    violations.Add(new("leak", $"incomplete multipart upload {upload}"));
                violations.AddRange(await op.VerifyAsync(box, run, run.Code == 0));

                ResultLog.Record("matrix", $"{op.Name} · {op.Size.ToString().ToLowerInvariant()} · {fault.Name}", fault.Expect.ToString(), run, violations);
                Assert.True(violations.Count == 0,
                    $"{op} with '{fault.Name}' ({fault.Why}), expected {fault.Expect}:\n  " +
                    string.Join("\n  ", violations) + $"\n{run}\nrequests through the proxy:\n{trace}");
            }
            finally
            {
                op.Cleanup();
            }
        }
        finally
        {
            Slots.Release();
        }
    }
}

public sealed class UploadMatrix
{
    public static IEnumerable<object[]> Cases => FaultCases.For(uploads: true, largeUploadIsOnePut: new UploadOperation(Size.Large).LargeUploadIsOnePut);

    [SkippableTheory, MemberData(nameof(Cases))]
    public Task Upload(string fault, Size size) => MatrixRunner.RunCaseAsync(new UploadOperation(size), FaultCases.Find(true, fault));
}

public sealed class DownloadMatrix
{
    public static IEnumerable<object[]> Cases => FaultCases.For(uploads: false);

    [SkippableTheory, MemberData(nameof(Cases))]
    public Task Download(string fault, Size size) => MatrixRunner.RunCaseAsync(new DownloadOperation(size), FaultCases.Find(false, fault));
}

public sealed class DirUploadMatrix
{
    public static IEnumerable<object[]> Cases => FaultCases.For(uploads: true);

    [SkippableTheory, MemberData(nameof(Cases))]
    public Task DirUpload(string fault, Size size) => MatrixRunner.RunCaseAsync(new DirUploadOperation(size), FaultCases.Find(true, fault));
}

public sealed class DirDownloadMatrix
{
    public static IEnumerable<object[]> Cases => FaultCases.For(uploads: false);

    [SkippableTheory, MemberData(nameof(Cases))]
    public Task DirDownload(string fault, Size size) => MatrixRunner.RunCaseAsync(new DirDownloadOperation(size), FaultCases.Find(false, fault));
}

public sealed class SaveMatrix
{
    // Chunk PUTs are single PUTs: the multipart-only faults cannot apply.
    public static IEnumerable<object[]> Cases => FaultCases.For(uploads: true, "save", largeUploadIsOnePut: true);

    [SkippableTheory, MemberData(nameof(Cases))]
    public Task Save(string fault, Size size) => MatrixRunner.RunCaseAsync(new SaveOperation(size), FaultCases.Find(true, fault));
}

public sealed class RestoreMatrix
{
    public static IEnumerable<object[]> Cases => FaultCases.For(uploads: false, "restore");

    [SkippableTheory, MemberData(nameof(Cases))]
    public Task Restore(string fault, Size size) => MatrixRunner.RunCaseAsync(new RestoreOperation(size), FaultCases.Find(false, fault));
}

/// <summary>A random-data image of the large size, made once per class (docker import) and removed after.</summary>
public sealed class LargeImage : IDisposable
{
    private readonly Lazy<string> _tag = new(() => Docker.CreateRandomImage(Path.GetTempPath(), Operation.Bytes(Size.Large)));

    internal string For(Size size) => size == Size.Small ? Docker.BaseImage : _tag.Value;

    public void Dispose()
    {
        if (_tag.IsValueCreated) Docker.Untag(_tag.Value);
    }
}

public sealed class DockerUploadMatrix(LargeImage images) : IClassFixture<LargeImage>
{
    public static IEnumerable<object[]> Cases => FaultCases.For(uploads: true);

    [SkippableTheory, MemberData(nameof(Cases))]
    public Task DockerUpload(string fault, Size size)
    {
        Servers.RequireDocker();
        return MatrixRunner.RunCaseAsync(new DockerUploadOperation(size, images.For(size)), FaultCases.Find(true, fault));
    }
}

public sealed class DockerDownloadMatrix(LargeImage images) : IClassFixture<LargeImage>
{
    public static IEnumerable<object[]> Cases => FaultCases.For(uploads: false);

    [SkippableTheory, MemberData(nameof(Cases))]
    public Task DockerDownload(string fault, Size size)
    {
        Servers.RequireDocker();
        return MatrixRunner.RunCaseAsync(new DockerDownloadOperation(size, images.For(size)), FaultCases.Find(false, fault));
    }
}
