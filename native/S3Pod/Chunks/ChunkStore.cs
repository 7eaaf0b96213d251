using S3Pod.Storage;

namespace S3Pod.Chunks;

/// <summary>Chunk collection: what <c>prune</c> does after evicting entries.</summary>
/// <param name="Deferred">Saves were in flight: nothing was collected this time.</param>
/// <param name="Stopped">The collector's lease ran out before it had deleted every candidate.</param>
internal sealed record CollectResult(bool Deferred, bool Stopped, int Chunks, long Bytes, int Kept, long KeptBytes, int Young);

/// <summary>Collection of chunks no entry references, under the <see cref="ICollectionGuard"/>.</summary>
internal static class ChunkStore
{
    /// <summary>The <c>s3pod-format</c> metadata of a chunk object.</summary>
    public const string Format = "chunk+zstd/1";

    /// <summary>
    /// Deletes every chunk that <paramref name="referenced"/> lacks and that is older than
    /// <paramref name="grace"/> (by its LastModified against the collector's marker). The caller
    /// lists the manifests — every committed entry, in every scope — only after the lease is held,
    /// so that a save committing before the lease is counted, and a save starting after it waits.
    /// </summary>
    public static async Task<CollectResult> CollectAsync(IObjectStore store, ICollectionGuard guard, Func<CancellationToken, Task<HashSet<string>>> referenced,
        TimeSpan grace, DateTimeOffset now, bool dryRun, Action<string> info, CancellationToken ct)
    {
        await using var lease = await guard.BeginCollectAsync(ct);
        if (lease is null) return new CollectResult(true, false, 0, 0, 0, 0, 0);
        var live = await referenced(ct);
        var doomed = new List<ObjectInfo>();
        int kept = 0, young = 0;
        long keptBytes = 0;
        await foreach (var o in store.ListAsync(ChunkLayout.Root, ct))
        {
            if (ChunkLayout.Digest(o.Key) is not { } digest) continue;
            if (live.Contains(digest) || now - o.LastModified < grace)
            {
                if (!live.Contains(digest)) young++;
                kept++;
                keptBytes += o.Size;
                continue;
            }
            doomed.Add(o);
        }
        int deleted = 0;
        long bytes = 0;
        bool stopped = false;
        foreach (var o in doomed)
        {
            if (dryRun) { deleted++; bytes += o.Size; continue; }
            if (!lease.MayDelete)
            {
                stopped = true;
                info($"chunk collection stopped after {deleted} chunk(s): its lease is half over; the next prune goes on");
                break;
            }
            // Only the version we listed: a save that rewrote the chunk since (same bytes) keeps it.
            if (await store.DeleteAsync(o.Key, ct, o.ETag) == DeleteOutcome.PreconditionFailed) continue;
            deleted++;
            bytes += o.Size;
        }
        return new CollectResult(false, stopped, deleted, bytes, kept, keptBytes, young);
    }
}
