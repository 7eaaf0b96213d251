using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;
using S3Pod.Cache;
using S3Pod.Chunks;
using S3Pod.Commands;
using S3Pod.Output;
using S3Pod.Storage;

namespace S3Pod.UnitTests;

/// <summary>Chunked cache entries on the real local directory store: dedup, update, collection and its guard.</summary>
public class ChunkedCacheTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("s3pod-chunks-").FullName;
    private readonly string _work;
    private readonly string _home;
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly LocalObjectStore _store;
    private readonly StringWriter _log = new();
    private readonly CacheService _cache;

    public ChunkedCacheTests()
    {
        _work = Directory.CreateDirectory(Path.Combine(_root, "work")).FullName;
        _home = Directory.CreateDirectory(Path.Combine(_root, "home")).FullName;
        _store = new LocalObjectStore(Path.Combine(_root, "store"), "ci", _clock);
        _cache = NewService(chunked: true);
    }

    private CacheService NewService(bool chunked) =>
        new(_store, new Reporter(_log, false), _clock, _work, _home, S3Pod.Archive.FileSystems.Select(Environment.GetEnvironmentVariable("S3POD_FS")), "s3pod test")
        {
            Chunked = chunked,
            StateDirectory = Path.Combine(_root, "state"),
        };

    public void Dispose() => Directory.Delete(_root, true);

    /// <summary>40 files of 100 KB of random bytes: about 8 chunks.</summary>
    private void WriteTree(int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < 40; i++)
        {
            var bytes = new byte[100_000];
            random.NextBytes(bytes);
            Directory.CreateDirectory(Path.Combine(_work, "deps"));
            File.WriteAllBytes(Path.Combine(_work, "deps", $"f{i:00}.bin"), bytes);
        }
    }

    private string TreeHash() => Convert.ToHexStringLower(SHA256.HashData(Directory.GetFiles(Path.Combine(_work, "deps"), "*", SearchOption.AllDirectories)
        .Order(StringComparer.Ordinal).SelectMany(f => File.ReadAllBytes(f).Concat(System.Text.Encoding.UTF8.GetBytes(Path.GetFileName(f)))).ToArray()));

    private Task<SaveResult> Save(string key, bool update = false) => _cache.SaveAsync(new SaveRequest(key, ["deps"], null, 3, update), default);

    private Task<RestoreResult> Restore(string key, CacheService? service = null) =>
        (service ?? _cache).RestoreAsync(new RestoreRequest(key, [], ["deps"], null, [], false), default);

    private string StoreDir => Path.Combine(_root, "store", "ci");

    private string[] ChunkFiles() => Directory.Exists(Path.Combine(StoreDir, "chunks"))
        ? Directory.GetFiles(Path.Combine(StoreDir, "chunks"), "*", SearchOption.AllDirectories).Where(f => ChunkLayout.Digest("chunks/sha256/xx/" + Path.GetFileName(f)) is not null).ToArray()
        : [];

    [Fact]
    public void FastCdc_CutsAreContentDefined_AnInsertionMovesOnlyTheCutsNearIt()
    {
        var cdc = new FastCdc(16 << 10, 64 << 10, 256 << 10);
        var data = new byte[4 << 20];
        new Random(1).NextBytes(data);
        var edited = data[..(2 << 20)].Concat(new byte[] { 1, 2, 3 }).Concat(data[(2 << 20)..]).ToArray();
        List<string> Chunks(byte[] d)
        {
            var list = new List<string>();
            for (int pos = 0; pos < d.Length;)
            {
                int n = cdc.Cut(d.AsSpan(pos), final: d.Length - pos < cdc.Max);
                Assert.InRange(n, 1, cdc.Max);
                if (pos + n < d.Length) Assert.True(n >= cdc.Min);
                list.Add(Convert.ToHexStringLower(SHA256.HashData(d.AsSpan(pos, n))));
                pos += n;
            }
            return list;
        }
        var before = Chunks(data);
        var after = Chunks(edited);
        Assert.InRange(before.Count, 30, 130); // about 64 chunks of 64 KiB on average
        Assert.True(after.Except(before).Count() <= 2, $"{after.Except(before).Count()} new chunks for one 3-byte insertion");
    }

    [Fact]
    public async Task SecondKey_UploadsOnlyTheChunksThatChanged_AndBothRestoreExactly()
    {
        WriteTree(1);
        var first = await Save("k1");
        Assert.True(first.Saved);
        Assert.Equal(first.UploadedBytes, first.Size);
        var firstHash = TreeHash();
        await Restore("k1"); // what the next save learns the store has

        var one = Path.Combine(_work, "deps", "f17.bin");
        var bytes = File.ReadAllBytes(one);
        bytes[5000] ^= 1;
        File.WriteAllBytes(one, bytes);
        var secondHash = TreeHash();
        var second = await Save("k2");
        Assert.True(second.Saved);
        Assert.True(second.UploadedBytes < first.UploadedBytes / 3, $"uploaded {second.UploadedBytes} of {first.UploadedBytes}");
        Assert.True(second.ReusedBytes > 0);

        Directory.Delete(Path.Combine(_work, "deps"), true);
        Assert.True((await Restore("k1")).Restored);
        Assert.Equal(firstHash, TreeHash());
        Assert.True((await Restore("k2")).Restored);
        Assert.Equal(secondHash, TreeHash());
    }

    [Fact]
    public async Task EntriesWrittenAsOneArchive_StillRestore()
    {
        WriteTree(2);
        var hash = TreeHash();
        Assert.True((await NewService(chunked: false).SaveAsync(new SaveRequest("old", ["deps"], null, 3), default)).Saved);
        Assert.Empty(ChunkFiles());
        Directory.Delete(Path.Combine(_work, "deps"), true);
        Assert.True((await Restore("old")).Restored);
        Assert.Equal(hash, TreeHash());
    }

    [Fact]
    public async Task Update_WritesNothingForAnUnchangedTree_AndSwitchesTheEntryForAChangedOne()
    {
        WriteTree(3);
        Assert.True((await Save("roll", update: true)).Saved);
        var chunks = ChunkFiles().Length;
        var manifest = Directory.GetFiles(Path.Combine(StoreDir, "caches"), "*.json", SearchOption.AllDirectories).Single();
        var manifestBefore = File.ReadAllText(manifest);

        // Same content, new mtimes: still unchanged.
        foreach (var f in Directory.GetFiles(Path.Combine(_work, "deps"))) File.SetLastWriteTimeUtc(f, DateTime.UtcNow.AddHours(-3));
        var same = await Save("roll", update: true);
        Assert.False(same.Saved);
        Assert.Equal("unchanged", same.SkippedReason);
        Assert.Equal(chunks, ChunkFiles().Length);
        Assert.Equal(manifestBefore, File.ReadAllText(manifest));

        // Without --update an existing key is kept.
        File.WriteAllText(Path.Combine(_work, "deps", "new.txt"), "new");
        Assert.Equal("exists", (await Save("roll")).SkippedReason);
        var changed = await Save("roll", update: true);
        Assert.True(changed.Saved);
        Assert.True(changed.Updated);
        var hash = TreeHash();
        Directory.Delete(Path.Combine(_work, "deps"), true);
        Assert.True((await Restore("roll")).Restored);
        Assert.Equal(hash, TreeHash());
    }

    [Fact]
    public async Task CorruptChunk_IsIntegrityError_AndLeavesWorkspaceUnchanged()
    {
        WriteTree(4);
        await Save("k");
        var chunk = ChunkFiles().OrderBy(f => f, StringComparer.Ordinal).First();
        var bytes = File.ReadAllBytes(chunk);
        bytes[bytes.Length / 2] ^= 0xff;
        File.WriteAllBytes(chunk, bytes);
        File.WriteAllText(Path.Combine(_work, "deps", "f00.bin"), "local edit");
        var e = await Assert.ThrowsAsync<S3PodException>(() => Restore("k"));
        Assert.Equal(ExitCodes.Integrity, ExitCodes.For(e.Kind));
        Assert.Equal("local edit", File.ReadAllText(Path.Combine(_work, "deps", "f00.bin")));
        Assert.Equal(40, Directory.GetFiles(Path.Combine(_work, "deps")).Length);
    }

    [Fact]
    public async Task MissingChunk_IsAMiss_AndLeavesWorkspaceUnchanged()
    {
        WriteTree(5);
        await Save("k");
        File.Delete(ChunkFiles().OrderBy(f => f, StringComparer.Ordinal).Last());
        File.WriteAllText(Path.Combine(_work, "deps", "f00.bin"), "local edit");
        var result = await Restore("k");
        Assert.False(result.Restored);
        Assert.Equal("local edit", File.ReadAllText(Path.Combine(_work, "deps", "f00.bin")));
    }

    [Fact]
    public async Task Prune_CollectsOnlyChunksNoEntryReferences()
    {
        WriteTree(6);
        await Save("old");
        _clock.Advance(TimeSpan.FromHours(1));
        WriteTree(7);
        await Save("new");
        var hash = TreeHash();
        int before = ChunkFiles().Length;
        _clock.Advance(TimeSpan.FromHours(1));
        var pruned = await _cache.PruneAsync("old", TimeSpan.FromMinutes(30), null, false, default, TimeSpan.Zero);
        Assert.Single(pruned.Deleted);
        Assert.NotNull(pruned.Chunks);
        Assert.False(pruned.Chunks!.Deferred);
        Assert.True(pruned.Chunks.Chunks > 0);
        Assert.Equal(before - pruned.Chunks.Chunks, ChunkFiles().Length);
        Directory.Delete(Path.Combine(_work, "deps"), true);
        Assert.True((await Restore("new")).Restored);
        Assert.Equal(hash, TreeHash());
    }

    [Fact]
    public async Task Prune_DefersCollection_WhileASaveIsInFlight()
    {
        WriteTree(8);
        await Save("old");
        _clock.Advance(TimeSpan.FromMinutes(1));
        var guard = new StoreCollectionGuard(_store, _ => { });
        await using (await guard.BeginWriteAsync(default))
        {
            var pruned = await _cache.PruneAsync("", TimeSpan.Zero, null, false, default, TimeSpan.Zero);
            Assert.Single(pruned.Deleted);
            Assert.True(pruned.Chunks!.Deferred);
            Assert.NotEmpty(ChunkFiles());
        }
        var later = await _cache.PruneAsync("", TimeSpan.Zero, null, false, default, TimeSpan.Zero);
        Assert.False(later.Chunks!.Deferred);
        Assert.Empty(ChunkFiles());
    }

    [Fact]
    public async Task Save_WaitsForARunningCollection()
    {
        var guard = new StoreCollectionGuard(_store, _ => { });
        var lease = await guard.BeginCollectAsync(default);
        Assert.NotNull(lease);
        var write = guard.BeginWriteAsync(default);
        await Task.Delay(1500);
        Assert.False(write.IsCompleted, "a save went ahead while a collection was running");
        await lease!.DisposeAsync();
        await using var intent = await write.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(intent.StillProtects);
    }
}
