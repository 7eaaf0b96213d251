using S3Pod.FaultTests.Harness;
using S3Pod.TestProxy;

namespace S3Pod.FaultTests.Regressions;

/// <summary>
/// Issue 9, defect 3, for the commands outside the matrix: a server that accepts and never answers
/// must end every command in exit 2 within the bound, saying what timed out and after how long
/// (today: 301 s for `exists`, then "The operation was canceled.").
/// </summary>
public sealed class TimeoutTests
{
    [SkippableTheory]
    [InlineData("exists", "k")]
    [InlineData("list")]
    [InlineData("delete", "k")]
    [InlineData("inspect", "k")]
    [InlineData("prune", "--max-total", "1G")]
    [InlineData("restore", "--key", "k", "--path", "data", "--lookup-only")]
    public async Task SilentServer_EveryCommandEndsInTime_NamingTheTimeout(params string[] args)
    {
        var server = Servers.RequireMain();
        await using var box = await Sandbox.CreateAsync(server);
        S3PodRun run;
        await using (var proxy = new FaultProxy(new Uri(server.Endpoint)).Add(On.Any, new Fault.Silent(), times: FaultRule.Always))
            run = await box.ThroughAsync(proxy, [.. args, "--json"]);
        var v = Contract.Check(run, Expectation.TimesOut, json: true);
        ResultLog.Record("regression", $"3 · silent server · {string.Join(' ', args)}", "exit 2, timed out", run, v);
        Assert.True(v.Count == 0, string.Join('\n', v) + "\n" + run);
    }

    [SkippableFact]
    public async Task DownloadFromUrl_SilentOrigin_EndsInTime_DestinationUntouched()
    {
        var server = Servers.RequireMain();
        await using var box = await Sandbox.CreateAsync(server);
        // The S3 part misses (direct to the server); the --url origin accepts and never answers.
        await using var origin = new FaultProxy(new Uri(server.Endpoint)).Add(On.Any, new Fault.Silent(), times: FaultRule.Always);
        var run = await S3PodProcess.RunAsync(box.Work, box.Env(server.Endpoint, shortTimeouts: true),
            ["download", "tool.bin", "tool.bin", "--url", origin.Endpoint + "/tool.bin", "--json"]);
        var v = Contract.Check(run, Expectation.TimesOut, json: true);
        if (File.Exists(Path.Combine(box.Work, "tool.bin"))) v.Add(new("half-written", "tool.bin exists after the failure"));
        foreach (var left in Tree.Names(box.Work)) v.Add(new("leak", $"left in the working directory: {left}"));
        ResultLog.Record("regression", "3 · download --url from a silent origin", "exit 2, timed out", run, v);
        Assert.True(v.Count == 0, string.Join('\n', v) + "\n" + run);
    }
}
