using System.Diagnostics;
using S3Pod.FaultTests.Harness;

namespace S3Pod.FaultTests.Regressions;

/// <summary>
/// Issue 9, defect 6: upload sources that hang or lie. Each must be a clear one-line refusal
/// (exit 2) within a few seconds: never a hang (a FIFO with no writer blocks open(2) forever),
/// never an endless read (/dev/zero), never `internal error`.
/// </summary>
public sealed class HostileInputTests
{
    private static readonly TimeSpan Quick = TimeSpan.FromSeconds(3);

    [SkippableTheory]
    [InlineData("fifo")]
    [InlineData("/dev/zero")]
    [InlineData("process substitution")]
    [InlineData("looping symlink")]
    public async Task NonRegularUploadSource_IsRefusedQuickly_InOneLine(string source)
    {
        var server = Servers.RequireMain();
        await using var box = await Sandbox.CreateAsync(server);
        var env = box.Env(server.Endpoint, shortTimeouts: true);
        S3PodRun run;
        switch (source)
        {
            case "fifo":
                Process.Start("mkfifo", [Path.Combine(box.Work, "fifo")])!.WaitForExit();
                run = await S3PodProcess.RunAsync(box.Work, env, ["upload", "k", "fifo", "--json"], limit: TimeSpan.FromSeconds(15));
                break;
            case "/dev/zero":
                run = await S3PodProcess.RunAsync(box.Work, env, ["upload", "k", "/dev/zero", "--json"], limit: TimeSpan.FromSeconds(15));
                break;
            case "process substitution":
                // `s3pod upload k <(cmd)`: the path is /dev/fd/63, a pipe.
                run = await S3PodProcess.RunAsync(box.Work, env, ["-c", "exec \"$0\" upload k <(echo from a pipe) --json", Servers.BinaryPath!], limit: TimeSpan.FromSeconds(15), file: "/bin/bash");
                run = run with { Args = ["upload", "k", "<(echo from a pipe)", "--json"] };
                break;
            default:
                File.CreateSymbolicLink(Path.Combine(box.Work, "loop"), "loop");
                run = await S3PodProcess.RunAsync(box.Work, env, ["upload", "k", "loop", "--json"], limit: TimeSpan.FromSeconds(15));
                break;
        }
        // A clear refusal names what it refuses.
        var named = source switch { "fifo" => "fifo", "/dev/zero" => "/dev/zero", "process substitution" => "/dev/fd/", _ => "loop" };
        var v = Contract.Check(run, Expectation.FailsWith(System.Text.RegularExpressions.Regex.Escape(named)), json: true, bound: Quick);
        if (await box.Bucket.MetadataAsync("k") is not null) v.Add(new("half-written", "an object was stored from it"));
        ResultLog.Record("regression", $"6 · upload from {source}", "exit 2 within 3 s, one line", run, v);
        Assert.True(v.Count == 0, string.Join('\n', v) + "\n" + run);
    }
}
