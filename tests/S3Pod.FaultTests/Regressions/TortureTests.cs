using System.Text.Json;
using S3Pod.FaultTests.Harness;

namespace S3Pod.FaultTests.Regressions;

/// <summary>
/// The concurrency torture (issue 9): writers × rounds on one cache key, small (single PUT) and
/// large (multipart) archives mixed, with restores and prunes racing them. Every restore is a
/// byte-exact hit of some writer's tree or a clean miss — never exit 5, never exit 2 — and the
/// store stays usable: afterwards a restore hits or misses cleanly, and a save fills an empty key.
/// Sized to about a minute.
/// </summary>
[Collection(Exclusive.Name)]
public sealed class TortureTests
{
    private const int Writers = 4;
    private const int Restorers = 2;
    private const string Key = "torture";

    [SkippableTheory]
    [InlineData("ceph", 3)]
    [InlineData("s3rver", 1)]
    public async Task WritersRestoresAndPrunes_OnOneKey_NeverBreakIt(string serverName, int rounds)
    {
        var server = Servers.Get(serverName);
        await using var box = await Sandbox.CreateAsync(server);
        var known = new HashSet<string>(); // every tree any writer ever saved
        var problems = new List<string>();
        int hits = 0, misses = 0, restores = 0;

        for (int round = 0; round < rounds; round++)
        {
            var jobs = Enumerable.Range(0, Writers).Select(i =>
            {
                var job = Path.Combine(box.Root, $"r{round}-w{i}");
                // One writer makes a single-PUT archive (create-only holds on RGW), the others
                // multipart ones (where RGW ignores If-None-Match on completion).
                Tree.WriteRandom(Path.Combine(job, "data"), i == 0 ? 1 << 20 : 20 << 20);
                known.Add(Tree.Snapshot(Path.Combine(job, "data")));
                return job;
            }).ToList();

            var saves = jobs.Select(j => box.DirectInAsync(j, "save", "--key", Key, "--path", "data", "--json")).ToList();
            var writing = Task.WhenAll(saves);
            var readers = Enumerable.Range(0, Restorers).Select(async r =>
            {
                var outcomes = new List<(S3PodRun Run, string Tree)>();
                // Keep restoring while the writers write, at least twice.
                for (int n = 0; n < 2 || !writing.IsCompleted; n++)
                {
                    var dir = Directory.CreateDirectory(Path.Combine(box.Root, $"r{round}-reader{r}-{n}")).FullName;
                    var run = await box.DirectInAsync(dir, "restore", "--key", Key, "--path", "data", "--json");
                    outcomes.Add((run, Tree.Snapshot(Path.Combine(dir, "data"))));
                    Directory.Delete(dir, true);
                }
                return outcomes;
            }).ToList();
            // A prune evicts everything while the writers are at work (in odd rounds, twice).
            var pruner = Task.Run(async () =>
            {
                var runs = new List<S3PodRun>();
                for (int n = 0; n < 1 + round % 2; n++)
                {
                    await Task.Delay(300 + 400 * n);
                    runs.Add(await box.DirectAsync("prune", "--max-total", "0"));
                }
                return runs;
            });

            var saveRuns = await writing;
            foreach (var s in saveRuns.Where(s => s.Code != 0)) problems.Add($"round {round}: a save exits {s.Code}: {s.Headline}");
            foreach (var p in (await pruner).Where(p => p.Code != 0)) problems.Add($"round {round}: a prune exits {p.Code}: {p.Headline}");
            foreach (var (run, tree) in (await Task.WhenAll(readers)).SelectMany(o => o))
            {
                restores++;
                if (run.Code != 0) { problems.Add($"round {round}: a restore exits {run.Code}: {run.Headline}"); continue; }
                if (JsonDocument.Parse(run.Out).RootElement.GetProperty("restored").GetBoolean())
                {
                    hits++;
                    if (!known.Contains(tree)) problems.Add($"round {round}: a restore reported a hit but restored a tree no writer saved");
                }
                else misses++;
            }
            foreach (var j in jobs) Directory.Delete(j, true);
        }

        // Afterwards: a fresh restore hits or misses cleanly; once the key is empty, a save fills it.
        var after = Directory.CreateDirectory(Path.Combine(box.Root, "after")).FullName;
        var final = await box.DirectInAsync(after, "restore", "--key", Key, "--path", "data", "--json");
        if (final.Code != 0) problems.Add($"afterwards: a restore exits {final.Code}: {final.Headline}");
        else if (JsonDocument.Parse(final.Out).RootElement.GetProperty("restored").GetBoolean() && !known.Contains(Tree.Snapshot(Path.Combine(after, "data"))))
            problems.Add("afterwards: a restore gives a tree no writer saved");
        var emptied = await box.DirectAsync("prune", "--max-total", "0");
        if (emptied.Code != 0) problems.Add($"afterwards: prune exits {emptied.Code}: {emptied.Headline}");
        var last = Path.Combine(box.Root, "last-writer");
        Tree.WriteRandom(Path.Combine(last, "data"), 20 << 20);
        var fill = await box.DirectInAsync(last, "save", "--key", Key, "--path", "data", "--json");
        if (fill.Code != 0 || !JsonDocument.Parse(fill.Out).RootElement.GetProperty("saved").GetBoolean())
            problems.Add($"afterwards: a save into the emptied key did not save (exit {fill.Code}): {fill.Headline}");
        var check = Directory.CreateDirectory(Path.Combine(box.Root, "check")).FullName;
        var refill = await box.DirectInAsync(check, "restore", "--key", Key, "--path", "data", "--fail-on-miss");
        if (refill.Code != 0 || Tree.Snapshot(Path.Combine(check, "data")) != Tree.Snapshot(Path.Combine(last, "data")))
            problems.Add($"afterwards: the refilled key does not restore the last save (exit {refill.Code}): {refill.Headline}");

        var note = $"{restores} racing restores: {hits} hits, {misses} misses; {problems.Count} problems";
        ResultLog.Record("regression", $"4 · torture {Writers} writers × {rounds} rounds + {Restorers} restorers + prunes ({serverName})", "hit or clean miss, store usable",
            null, problems.Select(p => new Violation(p.Contains("exits 5") || p.Contains("no writer") ? "corrupt" : "failed", p)).ToList(), note + (problems.Count > 0 ? ": " + string.Join("; ", problems.Take(3)) : ""));
        Assert.True(problems.Count == 0, note + "\n" + string.Join('\n', problems));
    }
}
