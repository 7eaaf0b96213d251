using S3Pod.Artifacts;
using S3Pod.Storage;

namespace S3Pod.UnitTests.Artifacts;

/// <summary>
/// gc against pushes in flight, with the steps of both interleaved by hand on the real local store
/// and a fake clock: gc's whole run between a push's upload and its commit, and a push of content gc
/// is about to delete landing between gc's listing and its delete.
/// </summary>
public sealed class CollectionGuardTests : IDisposable
{
    private readonly ArtifactFixture _f = new();

    public void Dispose() => _f.Dispose();

    private CollectionGuard Guard() => new(_f.Store, _f.Clock, "test");

    [Fact]
    public async Task GcDuringAPush_BetweenUploadAndCommit_DefersAndThePushedVersionIsReadable()
    {
        await _f.PushText("app", "v1");
        GcResult? gc = null;
        var pusher = _f.Service(crashAfter: step =>
        {
            if (step == "content") gc = _f.Service("gc").GcAsync(TimeSpan.Zero, false, default).GetAwaiter().GetResult();
        });
        var pushed = await _f.Push("app", _f.File("v2.txt", "v2"), service: pusher);
        Assert.Equal(1, gc!.Deferred);
        Assert.Empty(gc.Deleted);
        Assert.Equal("v2", await _f.Cat($"app:{pushed.Version}", _f.Service("fresh")));
        Assert.Empty(await _f.Keys(CollectionGuard.Root)); // the push removed its intent, gc its marker
        // Nothing in flight now: the same gc collects again.
        Assert.Equal(0, (await _f.Service("gc").GcAsync(TimeSpan.Zero, false, default)).Deferred);
    }

    [Fact]
    public async Task PushReusingContentGcIsAboutToDelete_WaitsForGc_AndUploadsItAgain()
    {
        // An orphan (its version was deleted), identical to what the next push sends: the push would
        // find it in the store and not upload it.
        await _f.PushText("app", "keep");
        await _f.PushText("app", "same bytes");
        await _f.Service().RemoveVersionAsync("app", "2", false, default);
        _f.Clock.Advance(TimeSpan.FromSeconds(1));
        Task<PushResult>? push = null;
        var hooked = new DeleteHookStore(_f.Store, key =>
        {
            if (push is not null || !key.StartsWith("blobs/", StringComparison.Ordinal)) return;
            push = Task.Run(() => _f.Push("app", _f.File("again.txt", "same bytes")));
            // Without the guard the push commits right here, before gc's delete.
            push.Wait(TimeSpan.FromSeconds(2));
        });
        var gc = await _f.Service("gc", through: hooked).GcAsync(TimeSpan.Zero, false, default);
        Assert.Single(gc.Deleted);
        Assert.NotNull(push);
        Assert.False(push!.IsCompleted, "the push must wait while gc's marker is live");
        // gc is done and its marker gone: the push's next poll goes on.
        for (int i = 0; i < 50 && !push.IsCompleted; i++)
        {
            _f.Clock.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(push, Task.Delay(100));
        }
        var pushed = await push;
        Assert.Equal("same bytes", await _f.Cat($"app:{pushed.Version}", _f.Service("fresh")));
    }

    [Fact]
    public async Task AWriterWaitsForALiveCollector_ButNotForADeadOne()
    {
        var guard = Guard();
        await using var run = await guard.BeginCollectAsync(default);
        Assert.True(run.MayDelete);
        var messages = new List<string>();
        var writer = guard.BeginWriteAsync("chunks", default, messages.Add);
        await Task.Delay(200);
        Assert.False(writer.IsCompleted);
        Assert.Contains(messages, m => m.Contains("garbage collection is running", StringComparison.Ordinal));

        // Half the marker's lifetime: the collector stops deleting before any writer may think it dead.
        _f.Clock.Advance(guard.Options.MarkerTtl / 2);
        Assert.False(run.MayDelete);
        Assert.False(writer.IsCompleted);
        _f.Clock.Advance(guard.Options.MarkerTtl / 2 + TimeSpan.FromSeconds(2));
        await using var intent = await writer.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(run.MayDelete); // never again
    }

    [Fact]
    public async Task ACollectorCountsLiveIntentsOfItsNamespaceOnly_AndClearsDeadOnes()
    {
        var guard = Guard();
        // What a SIGKILLed writer leaves: an intent nobody refreshes or removes (canList: false starts no refresh).
        var killed = await guard.BeginWriteAsync("artifact-blobs", default, canList: false);
        await using (var other = await guard.BeginWriteAsync("chunks", default))
        {
            await using var run = await guard.BeginCollectAsync(default);
            Assert.Equal(1, await run.WritersInFlightAsync("artifact-blobs", default));
            Assert.Equal(1, await run.WritersInFlightAsync("chunks", default));
        }
        await using (var run = await guard.BeginCollectAsync(default))
            Assert.Equal(0, await run.WritersInFlightAsync("chunks", default));

        _f.Clock.Advance(guard.Options.IntentTtl + TimeSpan.FromSeconds(1));
        await using (var run = await guard.BeginCollectAsync(default))
            Assert.Equal(0, await run.WritersInFlightAsync("artifact-blobs", default));
        Assert.DoesNotContain(killed.Key, await _f.Keys(CollectionGuard.IntentsRoot));
    }

    [Fact]
    public async Task ALongWriteKeepsItsIntentAlive()
    {
        var guard = Guard();
        await using var intent = await guard.BeginWriteAsync("artifact-blobs", default);
        for (int i = 0; i < 3; i++)
        {
            _f.Clock.Advance(guard.Options.IntentTtl / 2);
            await Task.Delay(100); // the refresh runs on the timer
        }
        await using var run = await guard.BeginCollectAsync(default);
        Assert.Equal(1, await run.WritersInFlightAsync("artifact-blobs", default));
    }
}

/// <summary>The real store with a hook before each delete: puts another process's step right there.</summary>
internal sealed class DeleteHookStore(IObjectStore inner, Action<string> beforeDelete) : IObjectStore
{
    public string Location => inner.Location;
    public string Identity => inner.Identity;
    public Task<ObjectInfo?> HeadAsync(string key, CancellationToken ct) => inner.HeadAsync(key, ct);
    public Task<PutOutcome> PutAsync(string key, Stream content, PutOptions options, CancellationToken ct) => inner.PutAsync(key, content, options, ct);
    public Task<ObjectReader?> OpenReadAsync(string key, ReadOptions options, CancellationToken ct) => inner.OpenReadAsync(key, options, ct);
    public IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken ct, string? startAfter = null) => inner.ListAsync(prefix, ct, startAfter);

    public Task<DeleteOutcome> DeleteAsync(string key, CancellationToken ct, string? ifMatch = null)
    {
        beforeDelete(key);
        return inner.DeleteAsync(key, ct, ifMatch);
    }

    public Task CheckAccessAsync(CancellationToken ct) => inner.CheckAccessAsync(ct);
    public Task<StoreCapabilities> GetCapabilitiesAsync(CancellationToken ct, bool refresh = false) => inner.GetCapabilitiesAsync(ct, refresh);
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
