using S3Pod.Artifacts;
using S3Pod.Storage;

namespace S3Pod.UnitTests.Artifacts;

/// <summary>The artifact service's protocols on the real local store (its lock makes conditions exact).</summary>
public sealed class ArtifactServiceTests : IDisposable
{
    private readonly ArtifactFixture _f = new();

    public void Dispose() => _f.Dispose();

    private static async Task<T> Fails<T>(FailureKind kind, Func<Task<T>> action, string? messagePart = null)
    {
        var e = await Assert.ThrowsAnyAsync<S3PodException>(action);
        Assert.Equal(kind, e.Kind);
        Assert.DoesNotContain('\n', e.Message);
        if (messagePart is not null) Assert.Contains(messagePart, e.Message);
        return default!;
    }

    [Fact]
    public async Task Push_NumbersVersions_KeepsBasenameAndMode_AndPullRestoresThem()
    {
        var tool = _f.File("bin/tool.sh", "#!/bin/sh\necho one\n");
        _f.FileSystem.SetPermissions(tool, 0x1ED /* 0755 */);
        Assert.Equal("1", (await _f.Push("tools/hello", tool)).Version);
        File.WriteAllText(tool, "#!/bin/sh\necho two\n");
        var second = await _f.Push("tools/hello", tool);
        Assert.Equal("2", second.Version);
        Assert.Equal("file", second.Kind);

        var pulled = await _f.Service().PullAsync(new PullRequest(ArtifactSpec.Parse("tools/hello:1"), null, _f.Work + "/out"), default);
        Assert.Equal(Path.Combine(_f.Work, "out", "tool.sh"), pulled.Path);
        Assert.Equal("#!/bin/sh\necho one\n", File.ReadAllText(pulled.Path));
        if (!OperatingSystem.IsWindows()) Assert.Equal((UnixFileMode)0x1ED, File.GetUnixFileMode(pulled.Path));
        Assert.Equal("#!/bin/sh\necho two\n", await _f.Cat("tools/hello"));
        var info = await _f.Service().InfoAsync(ArtifactSpec.Parse("tools/hello:2"), default);
        Assert.Equal("tool.sh", info.Record!.Basename);
        if (!OperatingSystem.IsWindows()) Assert.Equal("0755", info.Record.Mode);
        Assert.Equal("test", info.Record.CreatedBy);
    }

    [Fact]
    public async Task SameContent_IsUploadedOnce()
    {
        var first = await _f.PushText("app", "same bytes");
        var second = await _f.PushText("app", "same bytes");
        Assert.True(first.Uploaded);
        Assert.False(second.Uploaded);
        Assert.Equal(first.Blob, second.Blob);
        Assert.Single(await _f.Keys("blobs/"));
    }

    [Fact]
    public async Task DeletedHighestVersion_IsNeverReused_VersionedRegression()
    {
        await _f.PushText("app", "a");
        await _f.PushText("app", "b");
        await _f.PushText("app", "c");
        var rm = await _f.Service().RemoveVersionAsync("app", "3", false, default);
        Assert.True(rm.Deleted);
        Assert.Equal("4", (await _f.PushText("app", "d")).Version);
        await Fails(FailureKind.Conflict, () => _f.PushText("app", "e", version: new VersionRequest("3")), "never reused");
        await Fails(FailureKind.NotFound, () => _f.Cat("app:3"), "deleted");
        var all = await _f.Service().VersionsAsync("app", all: true, default);
        Assert.Equal(["4", "3", "2", "1"], all.Versions.Select(v => v.Version));
        Assert.True(all.Versions.Single(v => v.Version == "3").Deleted);
        Assert.Equal(["4", "2", "1"], (await _f.Service().VersionsAsync("app", all: false, default)).Versions.Select(v => v.Version));
        // rm is idempotent.
        Assert.True((await _f.Service().RemoveVersionAsync("app", "3", false, default)).AlreadyDeleted);
    }

    [Fact]
    public async Task ConcurrentPushes_GetDistinctVersions_NoGap_EachPointingAtItsOwnContent()
    {
        const int writers = 16;
        // Every writer holds its first version-record write until all have got that far, so all of
        // them choose a version from the same listing and collide, however the machine schedules them.
        int waiting = 0;
        var allListed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var results = await Task.WhenAll(Enumerable.Range(0, writers).Select(i =>
        {
            bool held = false;
            var gated = new InterleavingStore(_f.Store, async key =>
            {
                if (held || !key.Contains("/_versions/", StringComparison.Ordinal)) return;
                held = true;
                if (Interlocked.Increment(ref waiting) == writers) allListed.SetResult();
                await allListed.Task.WaitAsync(TimeSpan.FromSeconds(30)); // a writer that never gets here fails the test, not hangs it
            });
            return Task.Run(() => _f.Push("busy", _f.File($"c{i}.txt", $"content of writer {i}"), service: _f.Service($"cache{i}", through: gated)));
        }));
        Assert.Equal(Enumerable.Range(1, writers).Select(n => n.ToString()), results.Select(r => r.Version).OrderBy(int.Parse));
        Assert.Contains(results, r => r.Attempts > 1); // they did collide
        for (int i = 0; i < writers; i++)
            Assert.Equal($"content of writer {i}", await _f.Cat($"busy:{results[i].Version}", _f.Service("fresh")));
        // latest is the highest, never an older one (sacker's last-writer-wins `latest`).
        Assert.Equal(writers.ToString(), (await _f.Service("fresh").InfoAsync(ArtifactSpec.Parse("busy"), default)).Version);
    }

    [Fact]
    public async Task ExplicitVersion_ThatExists_IsConflict_AndSchemeIsFixed()
    {
        await _f.PushText("lib", "a", scheme: "semver");
        await Fails(FailureKind.Conflict, () => _f.PushText("lib", "b", version: new VersionRequest("1.0.0")));
        await Fails(FailureKind.Usage, () => _f.PushText("lib", "b", scheme: "int"), "semver");
        await Fails(FailureKind.Usage, () => _f.PushText("lib", "b", version: new VersionRequest(BumpMajor: true)));
    }

    [Fact]
    public async Task Semver_BaijiRules_ThroughTheService()
    {
        await _f.PushText("lib", "a", scheme: "semver", version: new VersionRequest("3.4.5"));
        Assert.Equal("4.0.0", (await _f.PushText("lib", "b", version: new VersionRequest(MinVersion: "4"))).Version);
        Assert.Equal("4.1.0", (await _f.PushText("lib", "c", version: new VersionRequest(Bump: SemverBump.Minor))).Version);
        Assert.Equal("4.1.1", (await _f.PushText("lib", "d")).Version);
        await Fails(FailureKind.Conflict, () => _f.PushText("lib", "e", version: new VersionRequest("4.0.5")), "only increase");
        Assert.Equal("d", await _f.Cat("lib:4"));
        Assert.Equal("c", await _f.Cat("lib:4.1.0"));
    }

    [Fact]
    public async Task MajorMinor_PartialMajor_NeverMatchesTen_ModelkitRegression()
    {
        await _f.PushText("model", "zero", scheme: "major-minor");                                   // 0.0
        await _f.PushText("model", "one", version: new VersionRequest("1.0"));
        await _f.PushText("model", "ten", version: new VersionRequest("10.0"));
        await _f.PushText("model", "one-one", version: new VersionRequest(Major: 1));               // 1.1: an old major gets a minor update
        Assert.Equal("1.1", (await _f.Service().InfoAsync(ArtifactSpec.Parse("model:1"), default)).Version);
        Assert.Equal("one-one", await _f.Cat("model:1"));
        Assert.Equal("ten", await _f.Cat("model"));
        Assert.Equal("11.0", (await _f.PushText("model", "eleven", version: new VersionRequest(BumpMajor: true))).Version);
        await Fails(FailureKind.NotFound, () => _f.Cat("model:2"));
    }

    [Fact]
    public async Task Date_Scheme_UsesTheClock_AndAdvancesOnAClash()
    {
        Assert.Equal("2026-01-01T00-00-00Z", (await _f.PushText("nightly", "a", scheme: "date")).Version);
        Assert.Equal("2026-01-01T00-00-01Z", (await _f.PushText("nightly", "b")).Version);
        _f.Clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal("2026-01-01T01-00-00Z", (await _f.PushText("nightly", "c")).Version);
        Assert.Equal("c", await _f.Cat("nightly"));
    }

    [Fact]
    public async Task Pin_IsVerified()
    {
        var pushed = await _f.PushText("app", "pinned");
        Assert.Equal("pinned", await _f.Cat($"app:1@{pushed.Digest}"));
        await Fails(FailureKind.Integrity, () => _f.Cat($"app:1@sha256:{new string('0', 64)}"), "pinned");
    }

    [Fact]
    public async Task TamperedContent_IsIntegrityFailure_AndTheDestinationIsUntouched()
    {
        var pushed = await _f.PushText("app", "original");
        var blobPath = Path.Combine(_f.Root, "store", "p", "blobs", pushed.Blob);
        File.WriteAllText(blobPath, "tampered");
        var dest = _f.File("dest.txt", "before");
        await Fails(FailureKind.Integrity, () => _f.Service().PullAsync(new PullRequest(ArtifactSpec.Parse("app:1"), dest, _f.Work), default));
        Assert.Equal("before", File.ReadAllText(dest));
        await Fails(FailureKind.Integrity, () => _f.Service().PathAsync(ArtifactSpec.Parse("app:1"), default));
        Assert.DoesNotContain(Directory.EnumerateFiles(Path.Combine(_f.Root, "cache"), "*", SearchOption.AllDirectories), p => p.Contains("blobs"));
    }

    [Fact]
    public async Task MaliciousBasename_FromTheBucket_NeverBecomesAPath()
    {
        await _f.PushText("app", "x");
        // Someone with write access to the bucket rewrites the record with a hostile basename.
        var key = ArtifactLayout.Version("app", "1");
        var r = (await new ArtifactLedger(() => _f.Store, new RecordCache(Path.Combine(_f.Root, "nocache")), new Output.Reporter(TextWriter.Null, false), false)
            .ReadAsync(key, ArtifactJson.Default.VersionRecord, default))!.Value.Record;
        var body = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(r with { Basename = "../../escape.txt" }, ArtifactJson.Default.VersionRecord);
        await _f.Store.PutAsync(key, new MemoryStream(body), new PutOptions(), default);
        var pulled = await _f.Service("other").PullAsync(new PullRequest(ArtifactSpec.Parse("app:1"), null, _f.Work), default);
        Assert.Equal(Path.Combine(_f.Work, "app"), pulled.Path);
    }

    [Fact]
    public async Task Directory_PushPull_SubPath_AndPath()
    {
        _f.File("tree/a.txt", "A");
        _f.File("tree/weights/big.bin", "BIG");
        _f.File("tree/weights/small.bin", "SMALL");
        _f.File("tree/other/c.txt", "C");
        var pushed = await _f.Push("models/clf", Path.Combine(_f.Work, "tree"), scheme: "major-minor");
        Assert.Equal("directory", pushed.Kind);
        Assert.Equal(4, pushed.Files);
        Assert.StartsWith("streamed/", pushed.Blob);

        var whole = await _f.Service().PullAsync(new PullRequest(ArtifactSpec.Parse("models/clf:0.0"), null, _f.Work), default);
        Assert.Equal(Path.Combine(_f.Work, "clf"), whole.Path);
        Assert.Equal("BIG", File.ReadAllText(Path.Combine(whole.Path, "weights/big.bin")));

        var sub = await _f.Service().PullAsync(new PullRequest(ArtifactSpec.Parse("models/clf[weights]"), null, _f.Work + "/s"), default);
        Assert.Equal(Path.Combine(_f.Work, "s", "weights"), sub.Path);
        Assert.Equal(["big.bin", "small.bin"], Directory.GetFiles(sub.Path).Select(Path.GetFileName).Order());
        Assert.False(Directory.Exists(Path.Combine(_f.Work, "s", "other")));

        var one = await _f.Service().PullAsync(new PullRequest(ArtifactSpec.Parse("models/clf[weights/big.bin]"), Path.Combine(_f.Work, "f", "renamed.bin"), _f.Work), default);
        Assert.Equal("BIG", File.ReadAllText(one.Path));
        Assert.Single(Directory.GetFileSystemEntries(Path.Combine(_f.Work, "f")));

        await Fails(FailureKind.NotFound, () => _f.Service().PullAsync(new PullRequest(ArtifactSpec.Parse("models/clf[nope]"), null, _f.Work), default), "'nope'");
        Assert.False(Directory.Exists(Path.Combine(_f.Work, "nope")));

        var path = await _f.Service().PathAsync(ArtifactSpec.Parse("models/clf:0.0[weights/small.bin]"), default);
        Assert.Equal("SMALL", File.ReadAllText(path.Path));
        Assert.True(path.Downloaded);
        await Fails(FailureKind.NotFound, () => _f.Service().PathAsync(ArtifactSpec.Parse("models/clf:0.0[missing]"), default));
        await Fails(FailureKind.Usage, () => _f.Cat("models/clf"));
    }

    [Fact]
    public async Task Path_OfACachedPinnedVersion_OrDigest_NeedsNoStoreAtAll()
    {
        var pushed = await _f.PushText("app", "cached");
        var first = await _f.Service("laptop").PathAsync(ArtifactSpec.Parse("app:1"), default);
        Assert.True(first.Downloaded);
        Assert.False(first.Offline);
        Func<IObjectStore> forbidden = () => throw new InvalidOperationException("the store was opened");
        var second = await _f.Service("laptop", forbidden).PathAsync(ArtifactSpec.Parse("app:1"), default);
        Assert.Equal(first.Path, second.Path);
        Assert.True(second.Offline);
        var byDigest = await _f.Service("laptop", forbidden).PathAsync(ArtifactSpec.Parse($"app@{pushed.Digest}"), default);
        Assert.Equal(first.Path, byDigest.Path);
        Assert.Equal("cached", File.ReadAllText(second.Path));
        if (!OperatingSystem.IsWindows()) Assert.Equal(0, (int)File.GetUnixFileMode(second.Path) & 0x92 /* 0222 */); // read-only copy
        // Aliases and latest always ask the store.
        await Assert.ThrowsAsync<InvalidOperationException>(() => _f.Service("laptop", forbidden).PathAsync(ArtifactSpec.Parse("app"), default));
    }

    [Fact]
    public async Task Path_TwoProcessesAtOnce_DownloadOnce()
    {
        await _f.PushText("app", new string('x', 1 << 20));
        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => _f.Service("shared").PathAsync(ArtifactSpec.Parse("app:1"), default))));
        Assert.Single(results, r => r.Downloaded);
        Assert.Single(results.Select(r => r.Path).Distinct());
    }

    [Fact]
    public async Task Aliases_SetExpectRollbackAndRemove()
    {
        await _f.PushText("app", "v1");
        await _f.PushText("app", "v2");
        var set = await _f.SetAlias("app", "live", "1", expect: "none");
        Assert.Null(set.PreviousVersion);
        await Fails(FailureKind.Conflict, () => _f.SetAlias("app", "live", "2", expect: "none"), "points at 1");
        var promoted = await _f.SetAlias("app", "live", "2", expect: "1");
        Assert.Equal("1", promoted.PreviousVersion);
        Assert.Equal("v2", await _f.Cat("app:live"));
        var rollback = await _f.SetAlias("app", "live", promoted.PreviousVersion!);
        Assert.Equal("v1", await _f.Cat("app:live"));
        Assert.Equal("2", rollback.PreviousVersion);
        Assert.False((await _f.SetAlias("app", "live", "1")).Changed);
        await Fails(FailureKind.NotFound, () => _f.SetAlias("app", "live", "9"));
        await Fails(FailureKind.Usage, () => _f.SetAlias("app", "latest", "1"));

        var removed = await _f.Service().RemoveAliasAsync("app", "live", "1", default);
        Assert.Equal("1", removed.PreviousVersion);
        await Fails(FailureKind.NotFound, () => _f.Cat("app:live"));
        await Fails(FailureKind.NotFound, () => _f.Service().RemoveAliasAsync("app", "live", null, default));
        Assert.Empty((await _f.Service().ListAliasesAsync("app", default)).Aliases);
        Assert.Null((await _f.SetAlias("app", "live", "2", expect: "none")).PreviousVersion);
    }

    [Fact]
    public async Task ConcurrentAliasSet_WithTheSameExpectation_ExactlyOneWins()
    {
        for (int i = 0; i < 9; i++) await _f.PushText("app", $"v{i}");
        await _f.SetAlias("app", "live", "1");
        var outcomes = await Task.WhenAll(Enumerable.Range(2, 8).Select(v => Task.Run(async () =>
        {
            try
            {
                await _f.SetAlias("app", "live", v.ToString(), expect: "1", service: _f.Service($"c{v}"));
                return "won";
            }
            catch (S3PodException e) when (e.Kind == FailureKind.Conflict)
            {
                return "conflict";
            }
        })));
        Assert.Single(outcomes, o => o == "won");
        Assert.Equal(7, outcomes.Count(o => o == "conflict"));
    }

    [Fact]
    public async Task Canary_PickIsStablePerSeed_AndFollowsTheWeight()
    {
        await _f.PushText("app", "v1");
        await _f.PushText("app", "v2");
        await _f.SetAlias("app", "live", "1", secondary: "2", weight: 20);
        var service = _f.Service();
        var first = await service.PickAsync("app", "live", "host-17", default);
        for (int i = 0; i < 5; i++) Assert.Equal(first.Version, (await service.PickAsync("app", "live", "host-17", default)).Version);
        int secondary = 0;
        for (int h = 0; h < 1000; h++)
            if ((await service.PickAsync("app", "live", $"host-{h}", default)).Picked == "secondary") secondary++;
        Assert.InRange(secondary, 150, 250);
        // Golden: the README's formula computed outside s3pod (first 8 bytes of SHA-256("host-17\napp\nlive")
        // = bb8f3f942b39bcd3, big-endian, modulo 100); the bucket must stay the same across versions.
        Assert.Equal(15, first.Bucket);
        await Fails(FailureKind.Usage, () => _f.SetAlias("app", "live", "1", secondary: "2"));
        await Fails(FailureKind.Usage, () => _f.SetAlias("app", "live", "1", secondary: "2", weight: 101));
        await Fails(FailureKind.Usage, () => _f.SetAlias("app", "live", "1", secondary: "1", weight: 5));
        var versions = await service.VersionsAsync("app", false, default);
        Assert.Equal(["live"], versions.Versions.Single(v => v.Version == "2").Aliases);
        Assert.Equal(["live"], versions.Versions.Single(v => v.Version == "1").Aliases);
    }

    [Fact]
    public async Task Rm_OfAnAliasedVersion_IsRefused_UnlessForced()
    {
        await _f.PushText("app", "v1");
        await _f.PushText("app", "v2");
        await _f.SetAlias("app", "live", "2");
        await _f.SetAlias("app", "canary", "1", secondary: "2", weight: 10);
        await Fails(FailureKind.Conflict, () => _f.Service().RemoveVersionAsync("app", "2", false, default), "canary, live");
        var forced = await _f.Service().RemoveVersionAsync("app", "2", true, default);
        Assert.Equal(["canary", "live"], forced.RemovedAliases.Order());
        await Fails(FailureKind.NotFound, () => _f.SetAlias("app", "live", "2"), "deleted");
        await Fails(FailureKind.NotFound, () => _f.Cat("app:live"));
    }

    [Fact]
    public async Task AliasSet_RacingAnRm_PutsTheAliasBack()
    {
        await _f.PushText("app", "v1");
        await _f.PushText("app", "v2");
        await _f.SetAlias("app", "live", "1");
        // The rm's tombstone lands after alias set checked the target, just before its write.
        var racing = new InterleavingStore(_f.Store, async key =>
        {
            if (key == ArtifactLayout.Alias("app", "live") && await _f.Store.HeadAsync(ArtifactLayout.Tombstone("app", "2"), default) is null)
                await _f.Store.PutAsync(ArtifactLayout.Tombstone("app", "2"), new MemoryStream("{}"u8.ToArray()), new PutOptions { Condition = WriteCondition.IfAbsent }, default);
        });
        await Fails(FailureKind.Conflict, () => _f.SetAlias("app", "live", "2", service: _f.Service(through: racing)), "put back");
        Assert.Equal("v1", await _f.Cat("app:live", _f.Service("fresh")));
    }

    [Fact]
    public async Task Rm_RacingAnAliasSet_TakesTheTombstoneBack()
    {
        await _f.PushText("app", "v1");
        await _f.PushText("app", "v2");
        // An alias set (whose own check passed) lands after rm checked the aliases, just before its tombstone.
        var racing = new InterleavingStore(_f.Store, async key =>
        {
            if (key == ArtifactLayout.Tombstone("app", "2")) await _f.SetAlias("app", "live", "2", service: _f.Service("other"));
        });
        await Fails(FailureKind.Conflict, () => _f.Service(through: racing).RemoveVersionAsync("app", "2", false, default), "not deleted");
        Assert.Equal("v2", await _f.Cat("app:live", _f.Service("fresh")));
        Assert.Equal("v2", await _f.Cat("app:2", _f.Service("fresh")));
    }

    [Fact]
    public async Task Purge_KeepsTheLastN_TheYoung_AndTheAliased_VersionedRegression()
    {
        for (int i = 1; i <= 6; i++)
        {
            await _f.PushText("app", $"v{i}");
            _f.Clock.Advance(TimeSpan.FromDays(10));
        }
        // Ages now: v1 60 days ... v6 10 days.
        await _f.SetAlias("app", "stable", "2");
        var dry = await _f.Service().PurgeAsync(new PurgeRequest("app", 2, TimeSpan.FromDays(35), DryRun: true, IncludeAliased: false), default);
        Assert.Equal(["3", "1"], dry.Deleted);      // 4 is too young, 5-6 are the last two, 2 is aliased
        Assert.Equal(["2"], dry.KeptAliased);
        Assert.Equal(6, (await _f.Service().VersionsAsync("app", false, default)).Versions.Count);

        var purged = await _f.Service().PurgeAsync(new PurgeRequest("app", 2, TimeSpan.FromDays(35), DryRun: false, IncludeAliased: false), default);
        Assert.Equal(["3", "1"], purged.Deleted);
        Assert.Equal(["6", "5", "4", "2"], (await _f.Service().VersionsAsync("app", false, default)).Versions.Select(v => v.Version));
        Assert.Equal("v2", await _f.Cat("app:stable"));

        var all = await _f.Service().PurgeAsync(new PurgeRequest("app", 2, TimeSpan.FromDays(35), DryRun: false, IncludeAliased: true), default);
        Assert.Equal(["2"], all.Deleted);
        Assert.Equal(["stable"], all.RemovedAliases);
        Assert.Equal("7", (await _f.PushText("app", "v7")).Version);
    }

    [Fact]
    public async Task IfChanged_Directory_ComparesTheTree_NotTheArchiveBytes()
    {
        var dir = Path.Combine(_f.Work, "site");
        _f.File("site/index.html", "<h1>hi</h1>");
        _f.File("site/js/app.js", "run()");
        async Task<StageResult> Stage() => await _f.Service().StageAsync(new StageRequest("site", dir, null, new Dictionary<string, string>(), null, 3), default);
        PublishRequest IfChanged() => new("site", VersionRequest.Default, [], IfChanged: true);

        var first = await Stage();
        Assert.Equal("1", (await _f.Service().PublishAsync(IfChanged(), default)).Version);
        // A rebuild writes the same bytes with new mtimes: another archive, the same tree.
        File.SetLastWriteTimeUtc(Path.Combine(dir, "js", "app.js"), new DateTime(2030, 1, 1, 0, 0, 0, DateTimeKind.Utc));
        var rebuilt = await Stage();
        Assert.NotEqual(first.Digest, rebuilt.Digest);
        var unchanged = await _f.Service().PublishAsync(IfChanged(), default);
        Assert.False(unchanged.Published);
        Assert.Equal("1", unchanged.Version);
        // A mode is content (an executable bit matters to whoever runs it).
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Path.Combine(dir, "js", "app.js"), File.GetUnixFileMode(Path.Combine(dir, "js", "app.js")) | UnixFileMode.UserExecute);
            await Stage();
            Assert.Equal("2", (await _f.Service().PublishAsync(IfChanged(), default)).Version);
        }
        File.WriteAllText(Path.Combine(dir, "index.html"), "<h1>ho</h1>");
        await Stage();
        Assert.True((await _f.Service().PublishAsync(IfChanged(), default)).Published);
    }

    [Fact]
    public async Task StageAndPublish_IdempotentPerHead_IfChanged()
    {
        var head = _f.File("db.sqlite", "generation 1");
        await _f.Service().StageAsync(new StageRequest("db", head, null, new Dictionary<string, string> { ["git"] = "abc" }, null, 3), default);
        Assert.Equal("generation 1", await _f.Cat("db:head"));
        var first = await _f.Service().PublishAsync(new PublishRequest("db", VersionRequest.Default, ["live"], false), default);
        Assert.Equal("1", first.Version);
        // Publishing the same head again returns the same version (a retried CI step).
        var again = await _f.Service().PublishAsync(new PublishRequest("db", VersionRequest.Default, [], false), default);
        Assert.Equal("1", again.Version);
        Assert.Equal(0, again.Attempts);
        // The same content staged again is a new head, but --if-changed sees the same digest.
        await _f.Service().StageAsync(new StageRequest("db", head, null, new Dictionary<string, string>(), null, 3), default);
        var unchanged = await _f.Service().PublishAsync(new PublishRequest("db", VersionRequest.Default, [], true), default);
        Assert.False(unchanged.Published);
        Assert.Equal("1", unchanged.Version);
        File.WriteAllText(head, "generation 2");
        await _f.Service().StageAsync(new StageRequest("db", head, null, new Dictionary<string, string>(), null, 3), default);
        Assert.Equal("2", (await _f.Service().PublishAsync(new PublishRequest("db", VersionRequest.Default, [], true), default)).Version);
        Assert.Equal("generation 1", await _f.Cat("db:live"));
        Assert.Equal("abc", (await _f.Service().InfoAsync(ArtifactSpec.Parse("db:1"), default)).Record!.Metadata!["git"]);
        await Fails(FailureKind.NotFound, () => _f.Service().PublishAsync(new PublishRequest("nothing", VersionRequest.Default, [], false), default));
    }

    [Fact]
    public async Task ConcurrentPublishOfOneHead_MakesOneVersion()
    {
        await _f.PushText("db", "v1");
        await _f.Service().StageAsync(new StageRequest("db", _f.File("h", "head"), null, new Dictionary<string, string>(), null, 3), default);
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() =>
            _f.Service($"p{i}").PublishAsync(new PublishRequest("db", VersionRequest.Default, [], false), default))));
        Assert.Single(results.Select(r => r.Version).Distinct());
        Assert.Equal("2", results[0].Version);
        Assert.Equal(["2", "1"], (await _f.Service().VersionsAsync("db", false, default)).Versions.Select(v => v.Version));
    }

    [Fact]
    public async Task CrashAfterContent_LeavesAnOrphan_ThatGcRemovesAfterTheGrace()
    {
        await _f.PushText("app", "kept");
        var crash = _f.Service(crashAfter: step => { if (step == "content") throw new OperationCanceledException("killed"); });
        await Assert.ThrowsAsync<OperationCanceledException>(() => _f.Push("app", _f.File("o.txt", "orphan"), service: crash));
        Assert.Equal(["1"], (await _f.Service().VersionsAsync("app", false, default)).Versions.Select(v => v.Version));
        Assert.Equal(2, (await _f.Keys("blobs/")).Count);

        var young = await _f.Service().GcAsync(TimeSpan.FromHours(1), false, default);
        Assert.Empty(young.Deleted);
        Assert.Equal(1, young.SparedYoung);
        _f.Clock.Advance(TimeSpan.FromHours(2));
        var dry = await _f.Service().GcAsync(TimeSpan.FromHours(1), true, default);
        Assert.Single(dry.Deleted);
        Assert.Equal(2, (await _f.Keys("blobs/")).Count);
        var gc = await _f.Service().GcAsync(TimeSpan.FromHours(1), false, default);
        Assert.Single(gc.Deleted);
        Assert.Equal("kept", await _f.Cat("app:1", _f.Service("fresh")));
    }

    [Fact]
    public async Task CrashAfterRecord_LeavesACommittedVersion_WithoutItsAlias()
    {
        await _f.PushText("app", "v1", aliases: ["live"]);
        var crash = _f.Service(crashAfter: step => { if (step == "record") throw new OperationCanceledException("killed"); });
        await Assert.ThrowsAsync<OperationCanceledException>(() => _f.Push("app", _f.File("v2.txt", "v2"), aliases: ["live"], service: crash));
        Assert.Equal("v2", await _f.Cat("app"));
        Assert.Equal("v1", await _f.Cat("app:live"));
        _f.Clock.Advance(TimeSpan.FromDays(30));
        Assert.Empty((await _f.Service().GcAsync(TimeSpan.FromDays(7), false, default)).Deleted);
    }

    [Fact]
    public async Task Gc_KeepsHeadsAndRecentlyDeleted_ThenReleasesThem()
    {
        await _f.PushText("app", "v1");
        await _f.PushText("app", "v2");
        await _f.Service().StageAsync(new StageRequest("app", _f.File("h", "head"), null, new Dictionary<string, string>(), null, 3), default);
        _f.Clock.Advance(TimeSpan.FromDays(30));
        await _f.Service().RemoveVersionAsync("app", "1", false, default);
        Assert.Empty((await _f.Service().GcAsync(TimeSpan.FromDays(7), false, default)).Deleted);
        _f.Clock.Advance(TimeSpan.FromDays(8));
        var gc = await _f.Service().GcAsync(TimeSpan.FromDays(7), false, default);
        Assert.Equal(["blobs/" + ArtifactLayout.FileBlob(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("v1"u8)))], gc.Deleted.Select(d => d.Key));
        Assert.Equal("head", await _f.Cat("app:head"));
        Assert.Equal("v2", await _f.Cat("app:2"));
    }

    [Fact]
    public async Task OldContent_IsUploadedAgain_SoGcCannotRemoveItUnderANewVersion()
    {
        await _f.PushText("app", "same");
        await _f.Service().RemoveVersionAsync("app", "1", false, default);
        _f.Clock.Advance(TimeSpan.FromDays(30));
        var again = await _f.PushText("app", "same");
        Assert.True(again.Uploaded);
        Assert.Empty((await _f.Service().GcAsync(TimeSpan.FromDays(7), false, default)).Deleted);
        Assert.Equal("same", await _f.Cat("app:2", _f.Service("fresh")));
    }

    [Fact]
    public async Task Names_AreIsolated_EvenWhenNested()
    {
        await _f.PushText("a/b", "outer");
        await _f.PushText("a/b/c", "inner");
        await _f.PushText("a/b/c", "inner2");
        Assert.Equal(["1"], (await _f.Service().VersionsAsync("a/b", false, default)).Versions.Select(v => v.Version));
        Assert.Equal(["a/b", "a/b/c"], (await _f.Service().ListAsync("", default)).Artifacts);
        Assert.Equal(["a/b/c"], (await _f.Service().ListAsync("a/b/", default)).Artifacts);
        await Fails(FailureKind.NotFound, () => _f.Cat("a"), "does not exist");
    }

    [Fact]
    public async Task Latest_SkipsPrereleases()
    {
        await _f.PushText("lib", "one", scheme: "semver");
        await _f.PushText("lib", "two-rc", version: new VersionRequest("2.0.0-rc.1"));
        Assert.Equal("one", await _f.Cat("lib"));
        Assert.Equal("two-rc", await _f.Cat("lib:2.0.0-rc.1"));
        Assert.Equal("2.0.0", (await _f.PushText("lib", "two", version: new VersionRequest(Bump: SemverBump.Major))).Version);
        Assert.Equal("two", await _f.Cat("lib"));
    }

    [Fact]
    public async Task WriteOnly_NeedsTheDateScheme_AndWritesOnlyBlobAndRecords()
    {
        await Fails(FailureKind.Usage, () => _f.Service().PushAsync(new PushRequest("ci", _f.File("x", "x"), null, VersionRequest.Default, [], new Dictionary<string, string>(), null, 3, WriteOnly: true), default), "--scheme date");
        var r = await _f.Service().PushAsync(new PushRequest("ci", _f.File("x", "x"), "date", VersionRequest.Default, [], new Dictionary<string, string>(), null, 3, WriteOnly: true), default);
        var again = await _f.Service().PushAsync(new PushRequest("ci", _f.File("y", "y"), "date", VersionRequest.Default, [], new Dictionary<string, string>(), null, 3, WriteOnly: true), default);
        Assert.Equal("2026-01-01T00-00-00Z", r.Version);
        Assert.Equal("2026-01-01T00-00-01Z", again.Version);
        Assert.Equal("y", await _f.Cat("ci"));
    }
}
