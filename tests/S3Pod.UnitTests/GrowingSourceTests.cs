using Microsoft.Extensions.Time.Testing;
using S3Pod.Cache;
using S3Pod.Files;
using S3Pod.Output;
using S3Pod.Storage;

namespace S3Pod.UnitTests;

/// <summary>
/// Issue 16, defect 4: a source file that grows while it is uploaded. A small object is sent from a
/// buffer of exactly its length, so the growth was never read and the first bytes were stored with
/// exit 0 (a directory archive cut the file at its size the same way). Every command now refuses
/// (exit 2, nothing stored) at every size. The store below appends to the file at the moment the
/// upload starts reading, the worst moment: after the digest was taken.
/// </summary>
public sealed class GrowingSourceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("s3pod-growing-").FullName;
    private static readonly S3Pod.Archive.IFileSystem Fs = S3Pod.Archive.FileSystems.Select(Environment.GetEnvironmentVariable("S3POD_FS"));

    public void Dispose() => Directory.Delete(_dir, true);

    private LocalObjectStore Local() => new(Path.Combine(_dir, "store"), "");

    private static byte[] Random(int size)
    {
        var data = new byte[size];
        System.Security.Cryptography.RandomNumberGenerator.Fill(data);
        return data;
    }

    [Theory]
    [InlineData(1 << 10)]
    [InlineData(10 << 20)]
    public async Task Upload_OfAFileThatGrows_IsRefused_AndStoresNothing(int size)
    {
        var file = Path.Combine(_dir, "f.bin");
        File.WriteAllBytes(file, Random(size));
        var store = new GrowingStore(Local(), file, readsExactLength: true);
        var service = new FileService(store, new HttpClient(), new Reporter(new StringWriter(), false), Fs, NetworkPolicy.Default);
        var e = await Assert.ThrowsAsync<S3PodException>(() => service.UploadAsync(new UploadRequest("k", file, false), default));
        Assert.Equal(FailureKind.Operational, e.Kind);
        Assert.Contains("grew", e.Message);
        Assert.Null(await store.HeadAsync("k", default));
    }

    [Theory]
    [InlineData(8 << 20)]
    [InlineData(20 << 20)]
    public async Task DirUpload_OfATreeWhoseFileGrows_IsRefused_AndStoresNothing(int size)
    {
        var tree = Directory.CreateDirectory(Path.Combine(_dir, "tree")).FullName;
        var file = Path.Combine(tree, "big.bin");
        File.WriteAllBytes(file, Random(size));
        var store = new GrowingStore(Local(), file, readsExactLength: false);
        var e = await Assert.ThrowsAsync<S3PodException>(() =>
            new DirService(store, new Reporter(new StringWriter(), false), Fs).UploadAsync(new DirUploadRequest("d", tree, false, 3), default));
        Assert.Equal(FailureKind.Operational, e.Kind);
        Assert.Contains("grew", e.Message);
        Assert.Null(await store.HeadAsync("d", default));
    }

    [Theory]
    [InlineData(8 << 20)]
    [InlineData(20 << 20)]
    public async Task Save_OfACacheWhoseFileGrows_IsRefused_AndCommitsNothing(int size)
    {
        var work = Directory.CreateDirectory(Path.Combine(_dir, "work")).FullName;
        var file = Path.Combine(work, "deps", "big.bin");
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllBytes(file, Random(size));
        // The file grows once its content is on its way (an archive or chunk PUT), not at the gc intent a chunked save writes first.
        var store = new GrowingStore(Local(), file, readsExactLength: false, growOn: key => !key.StartsWith("_gc/", StringComparison.Ordinal));
        var cache = new CacheService(store, new Reporter(new StringWriter(), false), new FakeTimeProvider(), work, Path.Combine(_dir, "home"), Fs, "s3pod test");
        var e = await Assert.ThrowsAsync<S3PodException>(() => cache.SaveAsync(new SaveRequest("k", ["deps"], null, 3), default));
        Assert.Equal(FailureKind.Operational, e.Kind);
        Assert.Contains("grew", e.Message);
        var keys = new List<string>();
        await foreach (var o in store.ListAsync("", default)) keys.Add(o.Key);
        Assert.DoesNotContain(keys, k => k.EndsWith(".json", StringComparison.Ordinal) || k.EndsWith(".tzst", StringComparison.Ordinal));
    }

    /// <summary>
    /// The local store, but each PUT first takes the first bytes of its content (so a directory's
    /// archive has begun, the file's size is in its header) and then appends to <paramref name="file"/>.
    /// <paramref name="readsExactLength"/>: like the S3 store's single PUT, the content is read into
    /// a buffer of exactly the announced length and nothing after it.
    /// </summary>
    private sealed class GrowingStore(IObjectStore inner, string file, bool readsExactLength, Func<string, bool>? growOn = null) : IObjectStore
    {
        private bool _grown;

        public string Location => inner.Location;
        public string Identity => inner.Identity;
        public Task<ObjectInfo?> HeadAsync(string key, CancellationToken ct) => inner.HeadAsync(key, ct);

        public async Task<PutOutcome> PutAsync(string key, Stream content, PutOptions options, CancellationToken ct)
        {
            if (_grown || growOn?.Invoke(key) == false) return await inner.PutAsync(key, content, options, ct);
            _grown = true;
            var first = new byte[1];
            int n = await content.ReadAsync(first, ct);
            await File.AppendAllTextAsync(file, "more", ct);
            if (readsExactLength && options.Length is { } length)
            {
                var body = new byte[length];
                body[0] = first[0];
                await content.ReadExactlyAsync(body.AsMemory(n), ct);
                return await inner.PutAsync(key, new MemoryStream(body), options, ct);
            }
            var rest = new MemoryStream();
            rest.Write(first, 0, n);
            await content.CopyToAsync(rest, ct);
            rest.Position = 0;
            return await inner.PutAsync(key, rest, options, ct);
        }

        public Task<ObjectReader?> OpenReadAsync(string key, ReadOptions options, CancellationToken ct) => inner.OpenReadAsync(key, options, ct);
        public IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken ct, string? startAfter = null) => inner.ListAsync(prefix, ct, startAfter);
        public Task<DeleteOutcome> DeleteAsync(string key, CancellationToken ct, string? ifMatch = null) => inner.DeleteAsync(key, ct, ifMatch);
        public Task CheckAccessAsync(CancellationToken ct) => inner.CheckAccessAsync(ct);
        public Task<StoreCapabilities> GetCapabilitiesAsync(CancellationToken ct, bool refresh = false) => inner.GetCapabilitiesAsync(ct, refresh);
        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
