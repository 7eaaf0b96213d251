using System.Diagnostics;
using S3Pod.Storage;

namespace S3Pod.Chunks;

/// <summary>A save in flight, announced to collectors. Dispose ends it (after the manifest is committed).</summary>
internal interface IWriteIntent : IAsyncDisposable
{
    /// <summary>False once the intent is old enough that a collector may have taken it for a crashed
    /// writer's: the writer must then check the chunks it reuses before it commits.</summary>
    bool StillProtects { get; }
}

/// <summary>A collection in flight. Dispose ends it.</summary>
internal interface ICollectionLease : IAsyncDisposable
{
    /// <summary>False once the collector is past half its marker's lifetime: writers waiting on it may
    /// go ahead soon, so the collector stops deleting.</summary>
    bool MayDelete { get; }
}

/// <summary>What chunked saves and chunk collection need of the store's collection guard.</summary>
internal interface ICollectionGuard
{
    Task<IWriteIntent> BeginWriteAsync(CancellationToken ct);

    /// <summary>The lease, or null when saves are in flight (the collection is deferred).</summary>
    Task<ICollectionLease?> BeginCollectAsync(CancellationToken ct);
}

/// <summary>
/// The chunk store's use of <see cref="CollectionGuard"/>, the one mechanism artifact gc uses too,
/// in its own namespace (<c>_gc/intents/chunks/</c>): a save writes its intent and then waits while a
/// collector runs; a collection writes its marker and then defers while any save is in flight. Of a
/// save and a collection that overlap, at least one sees the other.
/// </summary>
internal sealed class StoreCollectionGuard(IObjectStore store, Action<string> info, TimeProvider? clock = null, string actor = "s3pod cache") : ICollectionGuard
{
    public const string Namespace = "chunks";

    private readonly CollectionGuard _guard = new(store, clock ?? TimeProvider.System, actor);

    public async Task<IWriteIntent> BeginWriteAsync(CancellationToken ct)
    {
        var age = Stopwatch.StartNew();
        var intent = await _guard.BeginWriteAsync(Namespace, ct, info);
        return new Intent(intent, age, _guard.Options.IntentTtl);
    }

    public async Task<ICollectionLease?> BeginCollectAsync(CancellationToken ct)
    {
        var run = await _guard.BeginCollectAsync(ct);
        try
        {
            int live = await run.WritersInFlightAsync(Namespace, ct);
            if (live == 0) return new Lease(run);
            info($"chunk collection deferred: {live} save(s) in flight");
        }
        catch
        {
            await run.DisposeAsync();
            throw;
        }
        await run.DisposeAsync();
        return null;
    }

    private sealed class Intent(WriteIntent intent, Stopwatch age, TimeSpan ttl) : IWriteIntent
    {
        // The intent is refreshed while the save runs; past half its lifetime a missed refresh could
        // have let a collector take it for dead, so the save checks what it reuses before committing.
        public bool StillProtects => age.Elapsed < ttl / 2;
        public ValueTask DisposeAsync() => intent.DisposeAsync();
    }

    private sealed class Lease(CollectorRun run) : ICollectionLease
    {
        public bool MayDelete => run.MayDelete;
        public ValueTask DisposeAsync() => run.DisposeAsync();
    }
}
