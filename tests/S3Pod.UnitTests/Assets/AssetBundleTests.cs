using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using S3Pod.Assets;
using S3Pod.Output;
using S3Pod.Storage;

namespace S3Pod.UnitTests.Assets;

/// <summary>Offline bundles: pack on a connected machine, unpack on one with nothing (and no store),
/// split by size, tar-compatible, refused when damaged.</summary>
public class AssetBundleTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("s3pod-bundle-").FullName;
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly StringWriter _stderr = new();
    private static readonly S3Pod.Archive.IFileSystem Fs = S3Pod.Archive.FileSystems.Select(Environment.GetEnvironmentVariable("S3POD_FS"));

    public void Dispose() => Directory.Delete(_dir, true);

    /// <summary>One machine: its cache dir and assets dir under <paramref name="root"/>; buckets are local stores
    /// (none at all for an air-gapped machine).</summary>
    private (AssetBundles Bundles, ObjectCache Objects, AssetResolver Resolver) Machine(string root, bool connected)
    {
        var settings = new AssetSettings(TimeSpan.FromDays(1), [], Path.Combine(root, "assets"), null);
        var reporter = new Reporter(_stderr, false);
        var stores = new BucketStores(b => connected ? new LocalObjectStore(Path.Combine(_dir, "buckets", b), "", _clock)
            : throw new StorageException(StorageFailure.Unreachable, "air-gapped: no network"));
        var objects = new ObjectCache(Path.Combine(root, "cache"), settings, stores, _clock, reporter);
        var assets = new AssetsDirectory(settings.AssetsDir);
        var manifest = new ManifestFile(null, root);
        var resolver = new AssetResolver(assets, manifest, null, objects, _ => null, root, reporter, _clock);
        var service = new AssetService(resolver, objects, manifest, _ => null, reporter);
        return (new AssetBundles(objects, assets, service, Fs, reporter, _clock), objects, resolver);
    }

    private async Task Put(string bucket, string key, byte[] content)
    {
        await using var store = new LocalObjectStore(Path.Combine(_dir, "buckets", bucket), "", _clock);
        await store.PutAsync(key, new MemoryStream(content), new PutOptions(), default);
    }

    private static byte[] Random(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    private void PlaceAsset(string root, string name, string version, params (string Path, string Text)[] files)
    {
        var path = Path.Combine([root, "assets", .. name.Split('/'), version]);
        if (files.Length == 1 && files[0].Path == "")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, files[0].Text);
            return;
        }
        foreach (var (p, text) in files)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(path, p))!);
            File.WriteAllText(Path.Combine(path, p), text);
        }
    }

    private static readonly FetchOptions Options = new(TimeSpan.FromDays(1));

    [Fact]
    public async Task PackThenUnpack_OnAMachineWithNoNetwork_ServesEverything()
    {
        await Put("data-bucket", "models/a.bin", Random(300_000, 1));
        await Put("data-bucket", "odd key%/x.csv", Encoding.UTF8.GetBytes("odd"));
        var source = Path.Combine(_dir, "online");
        PlaceAsset(source, "m/file", "1.2", ("", "file asset"));
        PlaceAsset(source, "m/dir", "0.1", ("content0", "c0"), ("sub/deep.json", "{}"));
        var (pack, _, _) = Machine(source, connected: true);
        var bundle = Path.Combine(_dir, "out", "assets.tar.zst");
        var packed = await pack.PackAsync(["s3://data-bucket/models/a.bin", "s3://data-bucket/odd key%/x.csv", "m/file:1", "m/dir:0.1"], bundle, null, 4, 3, Options, default);
        Assert.Equal(bundle, Assert.Single(packed.Bundles).Path);
        Assert.Equal(4, packed.Entries);

        // The bundle is a plain tar.zst mirroring the cache layout.
        var listing = Sh($"zstd -dc '{bundle}' | tar -t");
        Assert.Contains("s3pod-bundle.json", listing);
        Assert.Contains("objects/data-bucket/models/a.bin", listing);
        Assert.Contains("assets/m/dir/0.1/sub/deep.json", listing);

        var target = Path.Combine(_dir, "air-gapped");
        var (unpack, objects, resolver) = Machine(target, connected: false);
        var loaded = await unpack.UnpackAsync([bundle], default);
        Assert.Equal((2, 2, 0), (loaded.Objects, loaded.Assets, loaded.AlreadyPresent));

        var a = await objects.FetchAsync(S3Uri.Parse("s3://data-bucket/models/a.bin"), Options, default);
        Assert.Equal("hit", a.Action);
        Assert.Equal(Random(300_000, 1), File.ReadAllBytes(a.Path));
        Assert.Equal("odd", File.ReadAllText((await objects.FetchAsync(S3Uri.Parse("s3://data-bucket/odd key%/x.csv"), Options, default)).Path));
        Assert.Equal("file asset", File.ReadAllText((await resolver.ResolveAsync("m/file:1.2", Options, default)).Path));
        Assert.Equal("{}", File.ReadAllText((await resolver.ResolveAsync("m/dir[sub/deep.json]", Options, default)).Path));

        // Loading again: objects are replaced, asset versions (immutable) kept.
        var again = await unpack.UnpackAsync([bundle], default);
        Assert.Equal((2, 0, 2), (again.Objects, again.Assets, again.AlreadyPresent));
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(target, "cache", "objects"), ".staging-*"));
    }

    [Fact]
    public async Task MaxSize_SplitsFirstFitLargestFirst_AndEveryBundleStaysUnderIt()
    {
        var uris = new List<string>();
        int[] sizes = [700_000, 600_000, 300_000, 250_000, 200_000, 100_000, 50_000];
        for (int i = 0; i < sizes.Length; i++)
        {
            await Put("data-bucket", $"k{i}", Random(sizes[i], i));
            uris.Add($"s3://data-bucket/k{i}");
        }
        var (pack, _, _) = Machine(Path.Combine(_dir, "online"), connected: true);
        const long limit = 1_000_000;
        var packed = await pack.PackAsync(uris, Path.Combine(_dir, "b.tar.zst"), limit, 4, 3, Options, default);
        // Random bytes do not compress: 2.2 MB of content needs at least three bundles of 1 MB.
        Assert.Equal(3, packed.Bundles.Count);
        Assert.Equal(["b-1.tar.zst", "b-2.tar.zst", "b-3.tar.zst"], packed.Bundles.Select(b => Path.GetFileName(b.Path)));
        Assert.All(packed.Bundles, b => Assert.True(new FileInfo(b.Path).Length <= limit, $"{b.Path} is {new FileInfo(b.Path).Length} bytes"));
        Assert.Equal(sizes.Length, packed.Bundles.Sum(b => b.Objects));

        var (unpack, objects, _) = Machine(Path.Combine(_dir, "air-gapped"), connected: false);
        await unpack.UnpackAsync(packed.Bundles.Select(b => b.Path).ToList(), default);
        Assert.Equal(uris, objects.List().Select(o => o.Record.Uri));
    }

    [Fact]
    public async Task ADamagedBundle_IsRefused_AndLoadsNothing()
    {
        await Put("data-bucket", "k", Random(100_000, 9));
        var (pack, _, _) = Machine(Path.Combine(_dir, "online"), connected: true);
        var bundle = Path.Combine(_dir, "b.tar.zst");
        await pack.PackAsync(["s3://data-bucket/k"], bundle, null, 1, 3, Options, default);
        var bytes = File.ReadAllBytes(bundle);
        bytes[bytes.Length / 2] ^= 0xff;
        File.WriteAllBytes(bundle, bytes);

        var target = Path.Combine(_dir, "air-gapped");
        var (unpack, objects, _) = Machine(target, connected: false);
        var e = await Assert.ThrowsAsync<S3PodException>(() => unpack.UnpackAsync([bundle], default));
        Assert.Equal(FailureKind.Integrity, e.Kind);
        Assert.Empty(objects.List());
        Assert.False(Directory.Exists(Path.Combine(target, "cache", "objects", "data-bucket")));
    }

    [Fact]
    public async Task ABundleWhoseContentContradictsItsRecord_IsRefused()
    {
        await Put("data-bucket", "k", Random(50_000, 4));
        var (pack, _, _) = Machine(Path.Combine(_dir, "online"), connected: true);
        var bundle = Path.Combine(_dir, "b.tar.zst");
        await pack.PackAsync(["s3://data-bucket/k"], bundle, null, 1, 3, Options, default);
        // Rebuilt with the standard tools (a valid tar.zst), one object's bytes changed, same length.
        var x = Path.Combine(_dir, "x");
        Directory.CreateDirectory(x);
        Sh($"zstd -dc '{bundle}' | tar -x -C '{x}'");
        var content = Path.Combine(x, "objects", "data-bucket", "k");
        var bytes = File.ReadAllBytes(content);
        bytes[0] ^= 1;
        File.WriteAllBytes(content, bytes);
        var forged = Path.Combine(_dir, "forged.tar.zst");
        Sh($"tar -C '{x}' -cf - . | zstd -q -o '{forged}'");

        var (unpack, objects, _) = Machine(Path.Combine(_dir, "air-gapped"), connected: false);
        var e = await Assert.ThrowsAsync<S3PodException>(() => unpack.UnpackAsync([forged], default));
        Assert.Equal(FailureKind.Integrity, e.Kind);
        Assert.Contains("does not match its record", e.Message);
        Assert.Empty(objects.List());
    }

    [Fact]
    public async Task Pack_FailsAsAWhole_ListingWhatCouldNotBeFetched()
    {
        var (pack, _, _) = Machine(Path.Combine(_dir, "online"), connected: true);
        var bundle = Path.Combine(_dir, "b.tar.zst");
        var e = await Assert.ThrowsAsync<S3PodException>(() => pack.PackAsync(["s3://data-bucket/none", "m/none:1.0"], bundle, null, 2, 3, Options, default));
        Assert.Equal(FailureKind.NotFound, e.Kind);
        Assert.Contains("2 of 2 entries", e.Message);
        Assert.False(File.Exists(bundle));
        Assert.Contains("s3://data-bucket/none", _stderr.ToString());
        Assert.Contains("m/none:1.0", _stderr.ToString());
    }

    private static string Sh(string script)
    {
        using var p = Process.Start(new ProcessStartInfo("bash", ["-c", "set -o pipefail; " + script]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, p.StandardError.ReadToEnd());
        return output;
    }
}
