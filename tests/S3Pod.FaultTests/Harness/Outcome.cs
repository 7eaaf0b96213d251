using System.Text.Json;
using System.Text.RegularExpressions;

namespace S3Pod.FaultTests.Harness;

/// <summary>One broken promise of the contract. Kinds, most severe first, give a case its one-word verdict.</summary>
internal sealed record Violation(string Kind, string Detail)
{
    /// <summary>
    /// proxy: the proxy itself misbehaved (the result is not s3pod's) · hang: killed at the hard limit · corrupt: reported success with wrong bytes · half-written:
    /// a failure changed the destination · leak: temp files or multipart uploads left · internal:
    /// "internal error" (reserved for bugs) · integrity: exit 5 for a network fault · failed: an
    /// error where the fault was transient · slow: past the time bound · unclear: the error does not
    /// follow the output contract or does not name the cause.
    /// </summary>
    public static readonly string[] Severity = ["proxy", "hang", "corrupt", "half-written", "leak", "internal", "integrity", "failed", "slow", "unclear"];

    public override string ToString() => $"{Kind}: {Detail}";
}

/// <summary>What a run must end in: success, or exit 2 with one line that matches every pattern.</summary>
internal sealed record Expectation(bool Success, IReadOnlyList<string> MessagePatterns)
{
    public static Expectation Succeeds { get; } = new(true, []);

    public static Expectation FailsWith(params string[] patterns) => new(false, patterns);

    /// <summary>Says that something timed out and after how long ("… timed out after 2s").</summary>
    public static Expectation TimesOut { get; } = FailsWith(@"(?i)time[sd]? ?out|timeout", @"\d+(\.\d+)? ?(ms|s|sec|seconds)\b");

    /// <summary>Says the server kept answering 503 (SlowDown / ServiceUnavailable), not just that one request failed.</summary>
    public static Expectation KeptAnswering503 { get; } = FailsWith(@"(?i)503|slow ?down|service ?unavailable", @"(?i)attempt|retr|tries|times|kept");

    public override string ToString() => Success ? "success" : "exit 2";
}

internal static class Contract
{
    /// <summary>
    /// The output contract of one run: bounded time; no internal error; with --json exactly one
    /// JSON object on stdout (an error object on failure); on failure exactly one error line on
    /// stderr; and the exit code the expectation asks for. Destination checks are the operation's.
    /// </summary>
    public static List<Violation> Check(S3PodRun run, Expectation expected, bool json, TimeSpan? bound = null)
    {
        var v = new List<Violation>();
        if (run.Killed)
        {
            v.Add(new("hang", $"still running after {run.Elapsed.TotalSeconds:0} s, killed"));
            return v;
        }
        if (run.Elapsed > (bound ?? Sandbox.Bound))
            v.Add(new("slow", $"took {run.Elapsed.TotalSeconds:0.0} s (bound {(bound ?? Sandbox.Bound).TotalSeconds:0} s)"));
        if (run.ErrorLines.FirstOrDefault(l => l.StartsWith("s3pod: internal error", StringComparison.Ordinal)) is { } bug)
            v.Add(new("internal", bug));
        if (run.Code == 5)
            v.Add(new("integrity", $"exit 5 (integrity) although the stored data is sound: {run.Headline}"));
        if (Regex.IsMatch(run.Err, @"^\s+at ", RegexOptions.Multiline))
            v.Add(new("unclear", "a stack trace on stderr"));

        if (json) CheckJson(run, v);

        if (expected.Success)
        {
            if (run.Code != 0 && run.Code != 5) v.Add(new("failed", $"exit {run.Code} where the fault is transient: {run.Headline}"));
        }
        else if (run.Code == 0)
        {
            v.Add(new("failed", "exit 0 although the fault is persistent (what was done?)"));
        }
        else
        {
            if (run.Code != 2 && run.Code != 5) v.Add(new("unclear", $"exit {run.Code}, expected 2"));
            CheckErrorLine(run, expected.MessagePatterns, v);
        }
        if (run.Code != 0 && expected.Success) CheckErrorLine(run, [], v);
        return v;
    }

    private static void CheckErrorLine(S3PodRun run, IReadOnlyList<string> patterns, List<Violation> v)
    {
        var lines = run.ErrorLines;
        if (lines.Count != 1)
        {
            v.Add(new("unclear", $"{lines.Count} error lines on stderr, expected exactly 1"));
            return;
        }
        foreach (var p in patterns)
            if (!Regex.IsMatch(lines[0], p)) v.Add(new("unclear", $"the error does not say /{p}/: {lines[0]}"));
        if (Regex.IsMatch(lines[0], @"(?i)cannot write .*(transport|connection|socket)"))
            v.Add(new("unclear", $"a network failure blamed on the local disk: {lines[0]}"));
    }

    private static void CheckJson(S3PodRun run, List<Violation> v)
    {
        try
        {
            using var doc = JsonDocument.Parse(run.Out);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) { v.Add(new("unclear", "--json stdout is not an object")); return; }
            if (run.Code != 0 && run.Code != 3)
            {
                if (!doc.RootElement.TryGetProperty("error", out var e) || e.ValueKind != JsonValueKind.String)
                    v.Add(new("unclear", "--json error object has no \"error\" string"));
                if (!doc.RootElement.TryGetProperty("exitCode", out var c) || c.GetInt32() != run.Code)
                    v.Add(new("unclear", $"--json error object's exitCode is not {run.Code}"));
            }
        }
        catch (JsonException)
        {
            v.Add(new("unclear", run.Out.Trim().Length == 0 ? "--json printed nothing on stdout" : $"--json stdout is not one JSON object: {Shorten(run.Out)}"));
        }
    }

    public static string Verdict(IEnumerable<Violation> violations)
    {
        var kinds = violations.Select(v => v.Kind).ToHashSet();
        return Violation.Severity.FirstOrDefault(kinds.Contains) ?? "ok";
    }

    public static string Shorten(string s, int max = 160)
    {
        s = s.ReplaceLineEndings(" ").Trim();
        return s.Length <= max ? s : s[..max] + "…";
    }
}

/// <summary>
/// Rows for the before/after table: with S3POD_FAULT_RESULTS=FILE every case appends one JSON line
/// (tests/S3Pod.FaultTests/render-table.py turns the file into markdown).
/// </summary>
internal static class ResultLog
{
    private static readonly string? File_ = Environment.GetEnvironmentVariable("S3POD_FAULT_RESULTS");
    private static readonly object Gate = new();

    public static void Record(string group, string @case, string expected, S3PodRun? run, IReadOnlyList<Violation> violations, string? note = null)
    {
        if (File_ is null) return;
        var row = new Dictionary<string, object?>
        {
            ["group"] = group,
            ["case"] = @case,
            ["expected"] = expected,
            ["exit"] = run is null ? null : run.Killed ? "killed" : run.Code.ToString(),
            ["seconds"] = run is null ? null : Math.Round(run.Elapsed.TotalSeconds, 1),
            ["verdict"] = Contract.Verdict(violations),
            ["headline"] = run is null ? "" : Contract.Shorten(run.Headline, 200),
            ["violations"] = violations.Select(v => v.ToString()).ToArray(),
            ["note"] = note,
        };
        lock (Gate) File.AppendAllText(File_, JsonSerializer.Serialize(row) + "\n");
    }
}
