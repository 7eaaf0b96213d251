using System.Text.Json;
using S3Pod.FaultTests.Harness;

namespace S3Pod.FaultTests.Regressions;

/// <summary>Races are timing-sensitive on a 2-core machine: these run alone, after the parallel matrix.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class Exclusive
{
    public const string Name = "exclusive (races)";
}

/// <summary>
/// Issue 9, defect 1: eight writers of one key at the same moment, with archives large enough for
/// multipart (where Ceph RGW ignores If-None-Match on CompleteMultipartUpload and s3rver ignores
/// every condition). Whatever the server does, the key must never end up in a state that fails
/// every restore (the manifest of one writer, the archive of another).
/// </summary>
[Collection(Exclusive.Name)]
public sealed class ConcurrentWriterTests
{
    private const int Writers = 8;
    private const long ArchiveBytes = 20 << 20;

    [SkippableTheory]
    [InlineData("ceph", 3)]
    [InlineData("s3rver", 1)]
    public async Task EightConcurrentLargeSaves_OfOneKey_RestoreByteExact_AndAtMostOneSaved(string serverName, int rounds)
    {
        var server = Servers.Get(serverName);
        await using var box = await Sandbox.CreateAsync(server);
        var problems = new List<string>();
        for (int round = 0; round < rounds; round++)
        {
            var key = $"race-{round}";
            var jobs = Enumerable.Range(0, Writers).Select(i =>
            {
                var job = Path.Combine(box.Root, $"r{round}-w{i}");
                Tree.WriteRandom(Path.Combine(job, "data"), ArchiveBytes);
                return job;
            }).ToList();
            var contents = jobs.Select(j => Tree.Snapshot(Path.Combine(j, "data"))).ToList();

            var saves = await Task.WhenAll(jobs.Select(j => box.DirectInAsync(j, "save", "--key", key, "--path", "data", "--json")));
            var savedBy = new List<int>();
            for (int i = 0; i < Writers; i++)
            {
                if (saves[i].Code != 0) { problems.Add($"round {round}: writer {i} exits {saves[i].Code}: {saves[i].Headline}"); continue; }
                if (JsonDocument.Parse(saves[i].Out).RootElement.GetProperty("saved").GetBoolean()) savedBy.Add(i);
            }
            if (server.EnforcesCreateOnly && savedBy.Count > 1)
                problems.Add($"round {round}: {savedBy.Count} writers report saved on a server enforcing create-only (at most 1 may)");

            var reader = Directory.CreateDirectory(Path.Combine(box.Root, $"r{round}-restore")).FullName;
            var restore = await box.DirectInAsync(reader, "restore", "--key", key, "--path", "data", "--fail-on-miss", "--json");
            if (restore.Code == 3 && !server.EnforcesCreateOnly)
            {
                // s3rver writes objects in place: racing manifests of different lengths can be mixed at
                // rest. No client prevents that there; what s3pod must do is miss, not restore a mix.
            }
            else if (restore.Code != 0)
            {
                problems.Add($"round {round}: restore exits {restore.Code}: {restore.Headline}");
            }
            else
            {
                int match = contents.IndexOf(Tree.Snapshot(Path.Combine(reader, "data")));
                if (match < 0) problems.Add($"round {round}: the restored tree is no writer's");
                else if (savedBy.Count == 1 && savedBy[0] != match) problems.Add($"round {round}: writer {savedBy[0]} reported saved, the restore gives writer {match}'s tree");
            }
            foreach (var dir in jobs.Append(reader)) Directory.Delete(dir, true);
        }
        ResultLog.Record("regression", $"1 · {Writers} concurrent 20 MiB saves × {rounds} rounds ({serverName})", "restore byte-exact, ≤1 saved", null,
            problems.Select(p => new Violation(p.Contains("restore") || p.Contains("no writer") ? "corrupt" : "unclear", p)).ToList(), string.Join("; ", problems.Take(3)));
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    // Not on s3rver: it writes objects in place, so concurrent PUTs of one key can leave a mix of
    // two files at rest (its own MD5 ETag no longer matches), which no client can prevent there.
    [SkippableTheory]
    [InlineData("ceph", 1)]
    public async Task EightConcurrentLargeUploads_OfOneKey_StoreOneWritersFile_WithItsOwnDigest(string serverName, int rounds)
    {
        var server = Servers.Get(serverName);
        await using var box = await Sandbox.CreateAsync(server);
        var problems = new List<string>();
        for (int round = 0; round < rounds; round++)
        {
            var key = $"race-{round}.bin";
            var files = Enumerable.Range(0, Writers).Select(i =>
            {
                var path = Path.Combine(box.Work, $"r{round}-w{i}.bin");
                File.WriteAllBytes(path, Tree.RandomBytes(ArchiveBytes));
                return path;
            }).ToList();
            var digests = files.Select(f => Tree.Sha256(File.ReadAllBytes(f))).ToList();

            var uploads = await Task.WhenAll(files.Select(f => box.DirectAsync("upload", key, f, "--json")));
            int reportedUploaded = 0;
            for (int i = 0; i < Writers; i++)
            {
                if (uploads[i].Code != 0) problems.Add($"round {round}: writer {i} exits {uploads[i].Code}: {uploads[i].Headline}");
                else if (!JsonDocument.Parse(uploads[i].Out).RootElement.GetProperty("skipped").GetBoolean()) reportedUploaded++;
            }
            if (server.EnforcesCreateOnly && reportedUploaded > 1)
                problems.Add($"round {round}: {reportedUploaded} writers report uploaded on a server enforcing create-only (the others must skip)");

            var stored = await box.Bucket.GetAsync(key);
            int owner = stored is null ? -1 : digests.IndexOf(Tree.Sha256(stored));
            var recorded = (await box.Bucket.MetadataAsync(key))?.GetValueOrDefault("s3pod-sha256");
            if (owner < 0) problems.Add($"round {round}: the stored object is no writer's file");
            else if (recorded != digests[owner]) problems.Add($"round {round}: the object is writer {owner}'s file but records sha256 {recorded} (writer {digests.IndexOf(recorded ?? "")}'s)");

            var download = await box.DirectAsync("download", key, $"r{round}-out.bin");
            if (download.Code != 0) problems.Add($"round {round}: download exits {download.Code}: {download.Headline}");
            foreach (var f in files) File.Delete(f);
        }
        ResultLog.Record("regression", $"1 · {Writers} concurrent 20 MiB uploads × {rounds} rounds ({serverName})", "one writer's file + digest, ≤1 uploaded", null,
            problems.Select(p => new Violation(p.Contains("download") || p.Contains("records") || p.Contains("no writer") ? "corrupt" : "unclear", p)).ToList(), string.Join("; ", problems.Take(3)));
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }
}
