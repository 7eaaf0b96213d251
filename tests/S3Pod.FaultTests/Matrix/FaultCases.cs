using S3Pod.FaultTests.Harness;
using S3Pod.TestProxy;

namespace S3Pod.FaultTests.Matrix;

/// <summary>One fault of the matrix: the proxy rules it installs for an operation, and what must come of it.</summary>
/// <param name="NeedsMultipart">The fault aims at a multipart upload's own requests (create, complete):
/// it applies only where the large upload goes as parts.</param>
internal sealed record FaultCase(string Name, Expectation Expect, Func<Operation, IEnumerable<FaultRule>> Rules, string Why, bool NeedsMultipart = false)
{
    public override string ToString() => Name;
}

/// <summary>
/// The faults, per direction. Transient ones (one reset, one truncation, a short 503 burst, one
/// stall that the idle timeout cuts) must end in success: the fixed binary retries and resumes
/// mid-body, pinned to the same ETag. Persistent ones (silent server, endless stall, endless 503,
/// endless resets) must end in exit 2 within the bound, with a message naming the cause.
/// Bodies are cut 256 KiB in; for large objects the second range or part is hit (the others go through).
/// </summary>
internal static class FaultCases
{
    private const long Cut = 256 << 10;

    /// <summary>Chunks are at most 2 MiB and a broken read resumes where it stopped, so a cut 256 KiB
    /// in only ever delays a chunk: for chunked reads the body is cut before its first byte.</summary>
    private static long CutFor(Operation op) => op.Chunked ? 0 : Cut;

    private static Expectation ConnectionTrouble { get; } = Expectation.FailsWith(@"(?i)reset|closed|connection|network");

    /// <summary>The requests that carry an operation's data: its GET, or when large its second range
    /// (by offset: the ranges run in parallel, so arrival order would pick a different one each run),
    /// resumptions included: a resumed request starts where the broken one stopped.</summary>
    private static RequestMatch DataGet(Operation op) => op.Chunked
        ? On.ObjectGet with { PathContains = op.DataPath }
        : op.Size == Size.Large
        ? On.RangedGet with { PathContains = op.DataPath, RangeStartsWithin = (8 << 20, 16 << 20) }
        : On.ObjectGet with { PathContains = op.DataPath };

    /// <summary>The requests that carry an operation's data: its single PUT, or when large its part 2
    /// (unless the large upload goes as one streamed PUT: then that PUT).</summary>
    private static RequestMatch DataPut(Operation op) => op.Size == Size.Large && !op.LargeUploadIsOnePut
        ? On.UploadPart with { PathContains = op.DataPath, QueryContains = "&partNumber=2&" }
        : On.SinglePut with { PathContains = op.DataPath };

    /// <summary>Per connection: 4 ranges or parts in parallel make a large transfer 4x as fast.</summary>
    private static long ThrottleRate(Operation op) => op.Size == Size.Large ? 2 << 20 : 256 << 10;

    private static FaultRule[] One(RequestMatch when, Fault fault, int skip = 0, int times = 1) => [new(when, fault, skip, times)];

    public static IReadOnlyList<(FaultCase Case, Size[] Sizes)> Downloads { get; } =
    [
        (new("reset mid-body once", Expectation.Succeeds, op => One(DataGet(op), new Fault.ResetResponse(CutFor(op))),
            "one connection reset 256 KiB into the body: resumed from there"), [Size.Small, Size.Large]),
        (new("truncated body once", Expectation.Succeeds, op => One(DataGet(op), new Fault.TruncateResponse(CutFor(op))),
            "fewer bytes than Content-Length, then FIN: resumed"), [Size.Small, Size.Large]),
        (new("stall mid-body once", Expectation.Succeeds, op => One(DataGet(op), new Fault.StallResponse(CutFor(op))),
            "the body stops (socket open): the idle timeout cuts it, the retry resumes"), [Size.Small, Size.Large]),
        (new("short stall 1 s", Expectation.Succeeds, op => One(DataGet(op), new Fault.StallResponse(CutFor(op), TimeSpan.FromSeconds(1))),
            "a pause shorter than the idle timeout is no failure"), [Size.Small]),
        (new("503 burst on GET", Expectation.Succeeds, op => One(DataGet(op), Fault.SlowDown, times: 2),
            "two SlowDown answers, then service"), [Size.Small, Size.Large]),
        (new("503 burst on HEAD", Expectation.Succeeds, op => One(On.Head, Fault.SlowDown, times: 2),
            "two SlowDown answers to the first request"), [Size.Small]),
        (new("throttled", Expectation.Succeeds, op => One(On.Any, new Fault.Throttle(ThrottleRate(op)), times: FaultRule.Always),
            "slow but steady (~4 s): no timeout may fire while bytes flow"), [Size.Small, Size.Large]),
        (new("reset mid-body always", ConnectionTrouble, op => One(DataGet(op), new Fault.ResetResponse(CutFor(op)), times: FaultRule.Always),
            "every data GET is reset: give up after the retries, say so"), [Size.Small, Size.Large]),
        (new("stall mid-body always", Expectation.TimesOut, op => One(DataGet(op), new Fault.StallResponse(CutFor(op)), times: FaultRule.Always),
            "every data GET stalls: idle timeout, retries, then exit 2 naming the timeout"), [Size.Small, Size.Large]),
        (new("silent server", Expectation.TimesOut, op => One(On.Any, new Fault.Silent(), times: FaultRule.Always),
            "accepts, never answers: first-byte timeout"), [Size.Small]),
        (new("503 always", Expectation.KeptAnswering503, op => One(On.Any, Fault.SlowDown, times: FaultRule.Always),
            "endless SlowDown: bounded retries with backoff, then exit 2"), [Size.Small]),
    ];

    public static FaultCase TruncatedManifest { get; } = new("truncated manifest once", Expectation.Succeeds,
        op => One(On.ObjectGet with { PathEndsWith = ".json" }, new Fault.TruncateResponse(10)),
        "the cache manifest's GET is cut after 10 bytes: retried");

    public static IReadOnlyList<(FaultCase Case, Size[] Sizes)> Uploads { get; } =
    [
        (new("reset mid-request once", Expectation.Succeeds, op => One(DataPut(op), new Fault.ResetRequest(Cut)),
            "the connection is reset 256 KiB into the request body: the PUT or part is sent again"), [Size.Small, Size.Large]),
        (new("response lost once", Expectation.Succeeds, op => One(DataPut(op), new Fault.ResetAfterForward()),
            "the server stored the PUT or part, the answer is lost: the retry must accept its own write"), [Size.Small, Size.Large]),
        (new("stall mid-request once", Expectation.Succeeds, op => One(DataPut(op), new Fault.StallRequest(Cut)),
            "the server stops reading the body: a timeout cuts it, the retry goes through"), [Size.Small, Size.Large]),
        (new("503 burst on PUT", Expectation.Succeeds, op => One(DataPut(op), Fault.SlowDown, times: 2),
            "two SlowDown answers to the data PUT or part"), [Size.Small, Size.Large]),
        (new("503 burst on HEAD", Expectation.Succeeds, op => One(On.Head, Fault.SlowDown, times: 2),
            "two SlowDown answers to the existence check"), [Size.Small]),
        (new("throttled", Expectation.Succeeds, op => One(On.Any, new Fault.Throttle(ThrottleRate(op)), times: FaultRule.Always),
            "slow but steady upload (~4 s): no timeout may fire while bytes flow"), [Size.Small, Size.Large]),
        (new("stall mid-request always", Expectation.TimesOut, op => One(DataPut(op), new Fault.StallRequest(Cut), times: FaultRule.Always),
            "every data PUT stalls: timeout, retries, exit 2 naming the timeout, upload aborted"), [Size.Small, Size.Large]),
        (new("reset mid-request always", ConnectionTrouble, op => One(DataPut(op), new Fault.ResetRequest(Cut), times: FaultRule.Always),
            "every data PUT is reset: exit 2 naming the connection problem"), [Size.Small]),
        (new("silent server", Expectation.TimesOut, op => One(On.Any, new Fault.Silent(), times: FaultRule.Always),
            "accepts, never answers: first-byte timeout"), [Size.Small]),
        (new("503 always", Expectation.KeptAnswering503, op => One(On.Any, Fault.SlowDown, times: FaultRule.Always),
            "endless SlowDown: bounded retries with backoff, then exit 2"), [Size.Small]),
        (new("503 on CreateMultipartUpload once", Expectation.Succeeds, op => One(On.CreateMultipart with { PathContains = op.DataPath }, Fault.SlowDown),
            "the multipart upload's first request is throttled once", NeedsMultipart: true), [Size.Large]),
        (new("complete 500 before commit once", Expectation.Succeeds, op => One(On.CompleteMultipart with { PathContains = op.DataPath }, Fault.InternalError),
            "CompleteMultipartUpload answers 500 without committing: retried", NeedsMultipart: true), [Size.Large]),
        (new("complete reset after commit once", Expectation.Succeeds, op => One(On.CompleteMultipart with { PathContains = op.DataPath }, new Fault.ResetAfterForward()),
            "CompleteMultipartUpload committed, its answer lost: the object is there and is ours", NeedsMultipart: true), [Size.Large]),
        (new("complete 500 always", Expectation.FailsWith(@"(?i)500|InternalError|server error"), op => One(On.CompleteMultipart with { PathContains = op.DataPath }, Fault.InternalError, times: FaultRule.Always),
            "CompleteMultipartUpload never succeeds: exit 2, the upload aborted, nothing stored", NeedsMultipart: true), [Size.Large]),
    ];

    public static IReadOnlyList<FaultCase> SaveOnly { get; } =
    [
        new("manifest PUT 503 once", Expectation.Succeeds, op => One(On.SinglePut with { PathEndsWith = ".json" }, Fault.SlowDown),
            "the manifest's PUT is throttled once: retried"),
        new("manifest PUT 503 always", Expectation.KeptAnswering503, op => One(On.SinglePut with { PathEndsWith = ".json" }, Fault.SlowDown, times: FaultRule.Always),
            "the archive is stored, its manifest never: exit 2, and the entry must still restore or miss cleanly"),
    ];

    /// <param name="largeUploadIsOnePut">The operation's large upload is one streamed PUT
    /// (<see cref="Operation.LargeUploadIsOnePut"/>): the multipart-only faults cannot apply to it.</param>
    public static IEnumerable<object[]> For(bool uploads, string? operation = null, bool largeUploadIsOnePut = false)
    {
        foreach (var (c, sizes) in uploads ? Uploads : Downloads)
            foreach (var size in sizes)
                if (!(c.NeedsMultipart && largeUploadIsOnePut))
                    yield return [c.Name, size];
        if (operation == "restore") yield return [TruncatedManifest.Name, Size.Small];
        if (operation == "save")
            foreach (var c in SaveOnly) yield return [c.Name, Size.Small];
    }

    public static FaultCase Find(bool uploads, string name) =>
        (uploads ? Uploads : Downloads).Select(d => d.Case).Concat(SaveOnly).Append(TruncatedManifest).First(c => c.Name == name);
}
