using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
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
    /// <summary>False once the lease is past half its lifetime: writers waiting on it may go ahead
    /// soon, so the collector stops deleting.</summary>
    bool MayDelete { get; }
}

/// <summary>
/// Keeps chunk collection from deleting a chunk a save in flight is about to reference. Writers
/// announce themselves with an intent; a collector announces itself with a marker. Each writes its
/// own object first and then lists the other's, so of a writer and a collector that overlap at
/// least one sees the other (the store lists what was written before): a collector that sees a
/// live intent defers; a writer that sees a live marker waits until it is gone or expired.
/// </summary>
internal interface ICollectionGuard
{
    Task<IWriteIntent> BeginWriteAsync(CancellationToken ct);

    /// <summary>The lease, or null when saves are in flight (the collection is deferred).</summary>
    Task<ICollectionLease?> BeginCollectAsync(CancellationToken ct);
}

/// <summary>
/// <see cref="ICollectionGuard"/> on the store itself (<see cref="ChunkLayout.IntentRoot"/>,
/// <see cref="ChunkLayout.RunningRoot"/>). Ages are measured between server timestamps (LastModified
/// of the two objects), so client clocks do not matter. An intent lives <see cref="IntentTtl"/>; a
/// marker <see cref="MarkerTtl"/>, and its collector deletes only in the first half.
/// </summary>
internal sealed class StoreCollectionGuard(IObjectStore store, Action<string> info) : ICollectionGuard
{
    public static readonly TimeSpan IntentTtl = TimeSpan.FromHours(1);
    public static readonly TimeSpan MarkerTtl = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(500);

    public async Task<IWriteIntent> BeginWriteAsync(CancellationToken ct)
    {
        var key = ChunkLayout.IntentRoot + NewId() + ".json";
        var written = await PutRecordAsync(key, "save", ct);
        var started = Stopwatch.StartNew();
        var intent = new Intent(store, key, started);
        try
        {
            bool told = false;
            var waited = Stopwatch.StartNew();
            while (true)
            {
                // Oldest-possible age of each live marker at the time our intent was written.
                TimeSpan? wait = null;
                await foreach (var marker in store.ListAsync(ChunkLayout.RunningRoot, ct))
                {
                    var remaining = MarkerTtl - (written.LastModified - marker.LastModified) - waited.Elapsed;
                    if (remaining > TimeSpan.Zero && (wait is null || remaining > wait)) wait = remaining;
                }
                if (wait is null) return intent;
                if (!told)
                {
                    info($"a chunk collection (prune) is running; waiting for it to finish (at most {wait.Value.TotalSeconds:0} s)");
                    told = true;
                }
                await Task.Delay(Poll, ct);
            }
        }
        catch
        {
            await intent.DisposeAsync();
            throw;
        }
    }

    public async Task<ICollectionLease?> BeginCollectAsync(CancellationToken ct)
    {
        var key = ChunkLayout.RunningRoot + NewId() + ".json";
        var written = await PutRecordAsync(key, "collect", ct);
        var lease = new Lease(store, key, Stopwatch.StartNew());
        try
        {
            int live = 0;
            await foreach (var intent in store.ListAsync(ChunkLayout.IntentRoot, ct))
            {
                if (written.LastModified - intent.LastModified < IntentTtl) live++;
                else await store.DeleteAsync(intent.Key, ct, intent.ETag); // a crashed save's
            }
            if (live == 0) return lease;
            info($"chunk collection deferred: {live} save(s) in flight");
            await lease.DisposeAsync();
            return null;
        }
        catch
        {
            await lease.DisposeAsync();
            throw;
        }
    }

    private async Task<ObjectInfo> PutRecordAsync(string key, string kind, CancellationToken ct)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new GuardRecord(GuardRecord.CurrentSchema, kind, $"s3pod {Commands.CliApp.Version} pid {Environment.ProcessId}", DateTimeOffset.UtcNow), ChunkJson.Default.GuardRecord);
        await store.PutAsync(key, new MemoryStream(body), new PutOptions { Length = body.Length, ContentType = "application/json" }, ct);
        // The PUT's own answer has no date; the server's LastModified is the clock both sides compare.
        return await store.HeadAsync(key, ct) ?? throw new StorageException(StorageFailure.Changed, $"{key} vanished right after it was written");
    }

    private static string NewId() => DateTimeOffset.UtcNow.ToString("yyyyMMddTHHmmss") + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    private static async Task DeleteQuietlyAsync(IObjectStore store, string key)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await store.DeleteAsync(key, timeout.Token);
        }
        catch (Exception e) when (e is S3PodException or OperationCanceledException) { /* expires on its own */ }
    }

    private sealed class Intent(IObjectStore store, string key, Stopwatch age) : IWriteIntent
    {
        // Half the lifetime: a margin for a slow commit and a collector's late listing.
        public bool StillProtects => age.Elapsed < IntentTtl / 2;
        public async ValueTask DisposeAsync() => await DeleteQuietlyAsync(store, key);
    }

    private sealed class Lease(IObjectStore store, string key, Stopwatch age) : ICollectionLease
    {
        public bool MayDelete => age.Elapsed < MarkerTtl / 2;
        public async ValueTask DisposeAsync() => await DeleteQuietlyAsync(store, key);
    }
}
