using System.Text.Json;
using S3Pod.FaultTests.Harness;
using S3Pod.TestProxy;

namespace S3Pod.FaultTests.Regressions;

/// <summary>Issue 9, defect 5: errors that mislead (an evicted entry reported as an S3 error, an empty
/// argument reported as another path, a key too long reported as a server's BadRequest).</summary>
public sealed class MisleadingErrorTests
{
    /// <summary>
    /// A prune that deletes the entry between the restore's lookup and its reads: the entry is
    /// gone, so this restore is a miss (exit 0, or 3 with --fail-on-miss), not exit 2 NoSuchKey.
    /// The proxy runs the prune when the restore's GET of the manifest or of the data arrives. A
    /// chunked entry's data are chunks, which prune leaves to collection (after its grace period):
    /// a restore that read the manifest before the eviction may then finish, and must restore
    /// exactly what was saved.
    /// </summary>
    [SkippableTheory]
    [InlineData(".json", false)]
    [InlineData("/chunks/", false)]
    [InlineData("/chunks/", true)]
    public async Task PruneRacingRestore_IsAMiss_NotAnError(string evictedBefore, bool failOnMiss)
    {
        var server = Servers.RequireMain();
        await using var box = await Sandbox.CreateAsync(server);
        var job = Path.Combine(box.Root, "saving-job");
        Tree.WriteRandom(Path.Combine(job, "data"), 100_000);
        Assert.Equal(0, (await box.DirectInAsync(job, "save", "--key", "evicted", "--path", "data")).Code);
        var data = Directory.CreateDirectory(Path.Combine(box.Work, "data")).FullName;
        File.WriteAllText(Path.Combine(data, "keep.txt"), "mine\n");
        var before = Tree.Snapshot(data);

        S3PodRun? prune = null;
        S3PodRun run;
        string trace;
        await using (var proxy = new FaultProxy(new Uri(server.Endpoint)))
        {
            proxy.Add(evictedBefore.EndsWith('/') ? On.ObjectGet with { PathContains = evictedBefore } : On.ObjectGet with { PathEndsWith = evictedBefore },
                new Fault.RunFirst("prune", async () => prune = await box.DirectAsync("prune", "--max-total", "0")));
            run = await box.ThroughAsync(proxy, ["restore", "--key", "evicted", "--path", "data", "--json", .. failOnMiss ? new[] { "--fail-on-miss" } : []]);
            trace = proxy.Describe() + "\n" + string.Join('\n', proxy.Problems);
        }
        Assert.True(prune is { Code: 0 }, $"the racing prune did not run or failed: {prune}\n{run}\n{trace}");

        var v = new List<Violation>();
        if (run.Killed) v.Add(new("hang", "killed"));
        int expectedCode = failOnMiss ? 3 : 0;
        bool restored = run.Code == 0 && JsonDocument.Parse(run.Out).RootElement.GetProperty("restored").GetBoolean();
        if (restored && evictedBefore.EndsWith('/'))
        {
            // The chunks outlived the eviction: the whole saved tree, exactly.
            var saved = Path.Combine(job, "data");
            foreach (var f in Directory.GetFiles(saved, "*", SearchOption.AllDirectories))
            {
                var there = Path.Combine(data, Path.GetRelativePath(saved, f));
                if (!File.Exists(there) || !File.ReadAllBytes(f).AsSpan().SequenceEqual(File.ReadAllBytes(there))) v.Add(new("corrupt", $"{Path.GetRelativePath(saved, f)} differs from what was saved"));
            }
        }
        else
        {
            if (run.Code != expectedCode) v.Add(new("failed", $"exit {run.Code} for an entry evicted mid-restore, expected {expectedCode} (a miss): {run.Headline}"));
            else if (restored) v.Add(new("corrupt", "reported restored"));
            if (Tree.Snapshot(data) != before) v.Add(new("half-written", "data/ changed"));
        }
        ResultLog.Record("regression", $"5 · prune racing restore (evicted before the {evictedBefore} GET{(failOnMiss ? ", --fail-on-miss" : "")})", $"exit {expectedCode}, a miss", run, v);
        Assert.True(v.Count == 0, string.Join('\n', v) + "\n" + run);
    }

    [SkippableFact]
    public async Task EmptyHashFrom_NamesTheEmptyArgument()
    {
        Servers.RequireBinary();
        var home = Directory.CreateTempSubdirectory("s3pod-ft-").FullName;
        try
        {
            var run = await S3PodProcess.RunAsync(home, new Dictionary<string, string> { ["HOME"] = home, ["PATH"] = "/usr/bin:/bin" }, ["key", "k-{hash}", "--hash-from", ""]);
            var v = Contract.Check(run, Expectation.FailsWith(@"--hash-from", @"(?i)empty|''|"""""), json: false);
            ResultLog.Record("regression", "5 · key --hash-from ''", "exit 2 naming the empty argument", run, v);
            Assert.True(v.Count == 0, string.Join('\n', v) + "\n" + run);
        }
        finally
        {
            Directory.Delete(home, true);
        }
    }

    /// <summary>S3 keys are at most 1024 bytes: refused before any request, with a message that says so.</summary>
    [SkippableTheory]
    [InlineData("upload")]
    [InlineData("download")]
    [InlineData("exists")]
    [InlineData("dir upload")]
    [InlineData("save")]
    public async Task KeyTooLong_IsRefusedBeforeAnyRequest(string command)
    {
        var server = Servers.RequireMain();
        await using var box = await Sandbox.CreateAsync(server);
        var key = "k/" + new string('x', 1098);
        File.WriteAllText(Path.Combine(box.Work, "f.txt"), "x");
        string[] args = command switch
        {
            "upload" => ["upload", key, "f.txt"],
            "download" => ["download", key, "out.txt"],
            "exists" => ["exists", key],
            "dir upload" => ["dir", "upload", key, "."],
            _ => ["save", "--key", key, "--path", "f.txt"],
        };
        S3PodRun run;
        int requests;
        await using (var proxy = new FaultProxy(new Uri(server.Endpoint)))
        {
            run = await box.ThroughAsync(proxy, [.. args, "--json"]);
            requests = proxy.Requests.Count;
        }
        var v = Contract.Check(run, Expectation.FailsWith(@"(?i)too long|1024"), json: true);
        if (requests > 0) v.Add(new("unclear", $"{requests} request(s) sent for a key no server accepts"));
        ResultLog.Record("regression", $"5 · 1,100-character key · {command}", "exit 2 'too long', no request", run, v);
        Assert.True(v.Count == 0, string.Join('\n', v) + "\n" + run);
    }
}
