using S3Pod.Commands;
using Microsoft.Extensions.Time.Testing;
using S3Pod.Cache;
using S3Pod.Output;
using S3Pod.Storage;

namespace S3Pod.UnitTests;

/// <summary>Save/restore semantics, on the real local directory store (no fakes needed).</summary>
public class CacheServiceTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("s3pod-cache-").FullName;
    private readonly string _work;
    private readonly string _home;
    // A fake clock: "newest first" and "older than" are tested by moving time, not by sleeping.
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly LocalObjectStore _store;
    private readonly StringWriter _log = new();
    private readonly CacheService _cache;

    public CacheServiceTests()
    {
        _work = Directory.CreateDirectory(Path.Combine(_root, "work")).FullName;
        _home = Directory.CreateDirectory(Path.Combine(_root, "home")).FullName;
        _store = new LocalObjectStore(Path.Combine(_root, "store"), "ci", _clock);
        // The archive format (1.x, and entries it wrote, which still restore): ChunkedCacheTests covers chunked entries.
        _cache = new CacheService(_store, new Reporter(_log, false), _clock, _work, _home, S3Pod.Archive.FileSystems.Select(Environment.GetEnvironmentVariable("S3POD_FS")), "s3pod test") { Chunked = false };
    }

    public void Dispose() => Directory.Delete(_root, true);

    private void Write(string rel, string text)
    {
        var p = Path.Combine(_work, rel);
        Directory.CreateDirectory(Path.GetDirectoryName(p)!);
        File.WriteAllText(p, text);
    }

    private Task<SaveResult> Save(string key, string? scope = null, params string[] paths) =>
        _cache.SaveAsync(new SaveRequest(key, paths.Length == 0 ? ["deps"] : paths, scope, 3), default);

    private Task<RestoreResult> Restore(string key, string[]? restoreKeys = null, string? scope = null, string[]? fallback = null, bool lookupOnly = false, string[]? paths = null) =>
        _cache.RestoreAsync(new RestoreRequest(key, restoreKeys ?? [], paths ?? ["deps"], scope, fallback ?? [], lookupOnly), default);

    [Fact]
    public async Task SaveThenRestore_RoundTripsAndSkipsSecondSave()
    {
        Write("deps/a.txt", "alpha");
        Write("deps/sub/b.txt", "beta");
        var saved = await Save("k1");
        Assert.True(saved.Saved);
        Assert.Equal(2, saved.Files);

        var again = await Save("k1");
        Assert.False(again.Saved);
        Assert.Equal("exists", again.SkippedReason);

        Directory.Delete(Path.Combine(_work, "deps"), true);
        var restored = await Restore("k1");
        Assert.True(restored.ExactMatch);
        Assert.True(restored.Restored);
        Assert.Equal("beta", File.ReadAllText(Path.Combine(_work, "deps/sub/b.txt")));
    }

    [Fact]
    public async Task ExactKeyWins_OverNewerPrefixMatch()
    {
        Write("deps/v", "exact");
        await Save("npm-abc");
        Write("deps/v", "newer");
        _clock.Advance(TimeSpan.FromMinutes(1));
        await Save("npm-abd");
        var r = await Restore("npm-abc", ["npm-"]);
        Assert.Equal("npm-abc", r.MatchedKey);
        Assert.True(r.ExactMatch);
        Assert.Equal("exact", File.ReadAllText(Path.Combine(_work, "deps/v")));
    }

    [Fact]
    public async Task RestoreKeys_TriedInOrder_NewestFirst()
    {
        Write("deps/v", "old");
        await Save("npm-1");
        _clock.Advance(TimeSpan.FromMinutes(1));
        Write("deps/v", "new");
        await Save("npm-2");
        var r = await Restore("npm-zzz", ["nomatch-", "npm-"]);
        Assert.Equal("npm-2", r.MatchedKey);
        Assert.False(r.ExactMatch);
        Assert.Equal("new", File.ReadAllText(Path.Combine(_work, "deps/v")));
    }

    [Fact]
    public async Task Scopes_PullRequestReadsBaseBranch_ButWritesOnlyItsOwn()
    {
        Write("deps/v", "main");
        await Save("k", "refs/heads/main");
        var pr = await Restore("k", scope: "refs/pull/7/merge", fallback: ["refs/heads/main"]);
        Assert.Equal("refs/heads/main", pr.MatchedScope);

        Write("deps/v", "pr");
        var prSave = await Save("k", "refs/pull/7/merge");
        Assert.True(prSave.Saved);
        var main = await Restore("k", scope: "refs/heads/main");
        Assert.Equal("refs/heads/main", main.MatchedScope);
        Assert.Equal("main", File.ReadAllText(Path.Combine(_work, "deps/v")));

        var other = await Restore("k", scope: "refs/heads/feature");
        Assert.Null(other.MatchedKey);
    }

    [Fact]
    public async Task DifferentPathList_DoesNotMatch()
    {
        Write("deps/v", "x");
        Write("other/v", "y");
        await Save("k", null, "deps");
        var r = await Restore("k", paths: ["deps", "other"]);
        Assert.Null(r.MatchedKey);
    }

    [Fact]
    public async Task LookupOnly_DoesNotTouchTheWorkspace()
    {
        Write("deps/v", "x");
        await Save("k");
        Directory.Delete(Path.Combine(_work, "deps"), true);
        var r = await Restore("k", lookupOnly: true);
        Assert.Equal("k", r.MatchedKey);
        Assert.False(r.Restored);
        Assert.False(Directory.Exists(Path.Combine(_work, "deps")));
    }

    [Fact]
    public async Task NothingToSave_IsUsageError()
    {
        var e = await Assert.ThrowsAsync<S3PodException>(() => Save("k", null, "missing-dir"));
        Assert.Equal(ExitCodes.OperationalError, ExitCodes.For(e.Kind));
        Assert.Contains("missing-dir", e.Message);
    }

    [Fact]
    public async Task ConcurrentSaves_ExactlyOneWins()
    {
        for (int i = 0; i < 200; i++) Write($"deps/f{i}", new string('x', 1000 + i));
        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => Save("race"))));
        Assert.Equal(1, results.Count(r => r.Saved));
        Directory.Delete(Path.Combine(_work, "deps"), true);
        var restored = await Restore("race");
        Assert.Equal(200, restored.Files);
    }

    [Fact]
    public async Task CorruptArchive_IsIntegrityError_AndLeavesWorkspaceUnchanged()
    {
        Write("deps/v", "original");
        await Save("k");
        var archive = Directory.GetFiles(Path.Combine(_root, "store"), "*.tzst", SearchOption.AllDirectories).Single();
        var bytes = File.ReadAllBytes(archive);
        bytes[bytes.Length / 2] ^= 0xff;
        File.WriteAllBytes(archive, bytes);
        Write("deps/v", "local edit");
        var e = await Assert.ThrowsAsync<S3PodException>(() => Restore("k"));
        Assert.Equal(ExitCodes.Integrity, ExitCodes.For(e.Kind));
        Assert.Equal("local edit", File.ReadAllText(Path.Combine(_work, "deps/v")));
    }

    [Fact]
    public async Task Prune_EvictsLeastRecentlyUsedFirst()
    {
        Write("deps/v", new string('a', 5000));
        await Save("old");
        Write("deps/v", new string('b', 5000));
        await Save("used");
        _clock.Advance(TimeSpan.FromHours(2));
        await Restore("used"); // marks it used now
        var dry = await _cache.PruneAsync("", null, 1, dryRun: true, default);
        Assert.Equal(2, dry.Deleted.Count);
        Assert.Equal("old", dry.Deleted[0].Key);

        var onlyOld = await _cache.PruneAsync("", TimeSpan.FromHours(1), null, false, default);
        Assert.Equal(["old"], onlyOld.Deleted.Select(d => d.Key));
        Assert.Null((await Restore("old")).MatchedKey);
        Assert.Equal("used", (await Restore("used")).MatchedKey);
    }

    private string StoreFile(string pattern) =>
        Directory.GetFiles(Path.Combine(_root, "store"), pattern, SearchOption.AllDirectories).Single(f => !f.Contains("/.s3pod/"));

    [Fact]
    public async Task EntryWithoutItsArchive_IsAMissWithAWarning_AndTheNextSaveReplacesIt()
    {
        Write("deps/v", "first");
        await Save("k");
        File.Delete(StoreFile("*.tzst")); // an archive lost (a prune racing, a lifecycle rule)
        var miss = await Restore("k");
        Assert.Null(miss.MatchedKey);
        Assert.Contains("incomplete or was removed", _log.ToString());

        Write("deps/v", "second");
        var again = await Save("k");
        Assert.True(again.Saved);
        Assert.Contains("is broken", _log.ToString());
        Directory.Delete(Path.Combine(_work, "deps"), true);
        Assert.True((await Restore("k")).Restored);
        Assert.Equal("second", File.ReadAllText(Path.Combine(_work, "deps/v")));
    }

    [Fact]
    public async Task ManifestDigest_IsChecked_AgainstTheArchive()
    {
        // Only the manifest's sha256 can catch an archive that is intact as zstd but is not the one
        // the manifest describes; zstd's own checksum is satisfied.
        Write("deps/v", "original");
        await Save("k");
        var manifest = StoreFile("*.json");
        var text = File.ReadAllText(manifest);
        var sha = System.Text.RegularExpressions.Regex.Match(text, "\"sha256\":\"([0-9a-f]{64})\"").Groups[1].Value;
        File.WriteAllText(manifest, text.Replace(sha, new string('0', 64)));
        Write("deps/v", "local edit");
        var e = await Assert.ThrowsAsync<S3PodException>(() => Restore("k"));
        Assert.Equal(FailureKind.Integrity, e.Kind);
        Assert.Equal("local edit", File.ReadAllText(Path.Combine(_work, "deps/v")));
    }

    [Fact]
    public async Task EntriesWrittenBy10_StillRestore()
    {
        Write("deps/v", "from 1.0");
        await Save("k");
        // Rewrite the entry into the 1.0 layout: archive at <version>.tzst, manifest without schema or archive name.
        var archive = StoreFile("*.tzst");
        var legacy = System.Text.RegularExpressions.Regex.Replace(archive, "\\.[0-9a-f]{16}\\.tzst$", ".tzst");
        File.Move(archive, legacy);
        var manifest = StoreFile("*.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(manifest))!.AsObject();
        json.Remove("schema");
        json.Remove("archive");
        json.Remove("eTag");
        File.WriteAllText(manifest, json.ToJsonString());
        Directory.Delete(Path.Combine(_work, "deps"), true);
        var r = await Restore("k");
        Assert.True(r.Restored);
        Assert.Equal("from 1.0", File.ReadAllText(Path.Combine(_work, "deps/v")));
    }

    [Fact]
    public async Task Prune_RemovesArchivesOfLostSaves_OnceNoSaveCanStillCommitThem()
    {
        Write("deps/v", "kept");
        await Save("k");
        var committed = StoreFile("*.tzst");
        var orphan = committed.Replace(Path.GetFileName(committed), Path.GetFileName(committed)[..17] + "ffffffffffffffff.tzst");
        File.Copy(committed, orphan);
        Assert.Equal(0, (await _cache.PruneAsync("", TimeSpan.FromDays(30), null, false, default)).Orphans); // too young
        _clock.Advance(TimeSpan.FromHours(2));
        File.SetLastWriteTimeUtc(orphan, _clock.GetUtcNow().UtcDateTime.AddHours(-2));
        var pruned = await _cache.PruneAsync("", TimeSpan.FromDays(30), null, false, default);
        Assert.Equal(1, pruned.Orphans);
        Assert.Empty(pruned.Deleted);
        Assert.False(File.Exists(orphan));
        Assert.True(File.Exists(committed));
        Directory.Delete(Path.Combine(_work, "deps"), true);
        Assert.True((await Restore("k")).Restored);
    }
}
