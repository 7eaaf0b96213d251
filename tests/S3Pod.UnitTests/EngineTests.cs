using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using S3Pod.Commands;
using S3Pod.Config;
using S3Pod.Files;
using S3Pod.Output;
using S3Pod.Storage;
using S3Pod.Streams;

namespace S3Pod.UnitTests;

/// <summary>The engine's shared rules: one settings table, one key policy, one result per command,
/// redaction, remembered capabilities, and the checks that guard every read.</summary>
public class EngineTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("s3pod-engine-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static readonly S3Pod.Archive.IFileSystem Fs = S3Pod.Archive.FileSystems.Select(Environment.GetEnvironmentVariable("S3POD_FS"));

    private static string RepoFile(string relative)
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "S3Pod.sln"))) return Path.Combine(d.FullName, relative);
        throw new InvalidOperationException("repository root not found");
    }

    [Fact]
    public void SettingsTable_IsWhatTheReadmeShows()
    {
        // S3POD_UPDATE_README=1 rewrites the block from the table (then review the diff).
        var path = RepoFile("README.md");
        var readme = File.ReadAllText(path).Replace("\r", "");
        const string begin = "<!-- settings table: generated from native/S3Pod/Config/SettingsTable.cs; a unit test compares -->\n";
        var start = readme.IndexOf(begin, StringComparison.Ordinal);
        Assert.True(start >= 0, "README.md lacks the settings table marker");
        start += begin.Length;
        var end = readme.IndexOf("\n\n", start, StringComparison.Ordinal) + 1;
        if (Environment.GetEnvironmentVariable("S3POD_UPDATE_README") == "1")
            File.WriteAllText(path, readme[..start] + SettingsTable.Markdown() + readme[end..]);
        else
            Assert.Equal(SettingsTable.Markdown(), readme[start..end]);
    }

    [Fact]
    public void EverySetting_HasItsFlagAndEnvironmentVariable_AndIsAcceptedInTheConfigFile()
    {
        foreach (var s in SettingsTable.All)
        {
            Assert.Equal("S3POD_" + s.Key.ToUpperInvariant(), s.EnvVar);
            if (s.Flag is not null) Assert.Contains(GlobalOptions.All, o => o.Name == s.Flag);
        }
        var config = Path.Combine(_dir, "c.toml");
        File.WriteAllText(config, "retries = 3\nidle_timeout = \"2s\"\nassume_single_writer = true\n");
        var settings = Settings.Resolve(new Dictionary<string, string?>(), n => n switch { "S3POD_CONFIG" => config, "HOME" => _dir, "S3POD_RETRIES" => "4", _ => null });
        Assert.Equal(4, settings.Network.Retries); // env over file
        Assert.Equal(TimeSpan.FromSeconds(2), settings.Network.IdleTimeout);
        Assert.True(settings.AssumeSingleWriter);
        var flagged = Settings.Resolve(new Dictionary<string, string?> { ["retries"] = "9" }, n => n switch { "S3POD_CONFIG" => config, "HOME" => _dir, "S3POD_RETRIES" => "4", _ => null });
        Assert.Equal(9, flagged.Network.Retries); // flag over env
    }

    [Theory]
    [InlineData("a/../b", "'..' segments")]
    [InlineData("../up", "'..' segments")]
    [InlineData("/abs", "leading")]
    [InlineData("a//b", "empty")]
    [InlineData("line\nbreak", "control characters")]
    [InlineData("", "empty")]
    public void BadKeys_AreUsageErrors_BeforeAnyRequest(string key, string expected)
    {
        var e = Assert.Throws<S3PodException>(() => ObjectKeys.Validate(key));
        Assert.Equal(FailureKind.Usage, e.Kind);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void LongKey_IsRefusedAsTooLong_CountingThePrefix()
    {
        Assert.Equal(new string('k', 1000), ObjectKeys.Validate(new string('k', 1000), "p/"));
        var e = Assert.Throws<S3PodException>(() => ObjectKeys.Validate(new string('k', 1100)));
        Assert.Contains("too long", e.Message);
        Assert.Throws<S3PodException>(() => ObjectKeys.Validate(new string('k', 1020), "project-prefix/"));
        Assert.Equal("deps/", ObjectKeys.ValidatePrefix("deps/")); // restore keys may end with '/'
    }

    [Fact]
    public void ResultWriter_RefusesASecondResult()
    {
        var w = new ResultWriter(new StringWriter(), json: true);
        w.Write(new VersionResult("1"), CliJson.Default.VersionResult);
        Assert.Throws<InvalidOperationException>(() => w.Write(new VersionResult("2"), CliJson.Default.VersionResult));
    }

    [Theory]
    [InlineData("endpoint 'ftp://user:hunter2@host' is bad", "ftp://***@host")]
    [InlineData("endpoint 'user:hunter2@host' is bad", "'***@host'")]
    [InlineData("cannot reach http://user:hunter2@127.0.0.1:9/x", "http://***@127.0.0.1")]
    [InlineData("no password in me@example.com", "me@example.com")]
    public void Redaction_RemovesUserInfo(string text, string expected)
    {
        var redacted = Redaction.Apply(text);
        Assert.DoesNotContain("hunter2", redacted);
        Assert.Contains(expected, redacted);
    }

    [Fact]
    public void CapabilityCache_RemembersForADay_PerEndpointAndBucket()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddYears(56));
        var cache = new CapabilityCache(_dir, clock);
        var caps = new StoreCapabilities(true, true, false, false, true, "probed", clock.GetUtcNow());
        cache.Remember("http://s3:1", "b", caps);
        Assert.Equal(caps, cache.TryGet("http://s3:1", "b"));
        Assert.Null(cache.TryGet("http://s3:1", "other"));
        Assert.Null(cache.TryGet("http://s3:2", "b"));
        clock.Advance(TimeSpan.FromHours(25));
        Assert.Null(cache.TryGet("http://s3:1", "b")); // stale: probe again
    }

    [Fact]
    public async Task DownloadLengthCheck_CatchesAStoreThatDeliversLessThanItAnnounced()
    {
        // The only failure this check catches: a transfer that ends early without the transport
        // noticing. A store reporting a larger size than it delivers models exactly that.
        var local = new LocalObjectStore(Path.Combine(_dir, "store"), "");
        File.WriteAllText(Path.Combine(_dir, "f"), "payload");
        await local.PutAsync("k", File.OpenRead(Path.Combine(_dir, "f")), new PutOptions(), default);
        var service = new FileService(new ShortDeliveryStore(local), new HttpClient(), new Reporter(new StringWriter(), false), Fs, NetworkPolicy.Default);
        var e = await Assert.ThrowsAsync<S3PodException>(() => service.DownloadAsync(new DownloadRequest("k", Path.Combine(_dir, "out"), null, null), default));
        Assert.Equal(FailureKind.Integrity, e.Kind);
        Assert.False(File.Exists(Path.Combine(_dir, "out")));
    }

    [Fact]
    public async Task DirDownloadLengthCheck_CatchesAShortDelivery_ThatZstdCannotSee()
    {
        var local = new LocalObjectStore(Path.Combine(_dir, "store"), "");
        Directory.CreateDirectory(Path.Combine(_dir, "tree"));
        File.WriteAllText(Path.Combine(_dir, "tree/a"), "alpha");
        var reporter = new Reporter(new StringWriter(), false);
        await new DirService(local, reporter, Fs).UploadAsync(new DirUploadRequest("d", Path.Combine(_dir, "tree"), false, 3), default);
        var e = await Assert.ThrowsAsync<S3PodException>(() => new DirService(new ShortDeliveryStore(local), reporter, Fs).DownloadAsync(new DirDownloadRequest("d", Path.Combine(_dir, "out")), default));
        Assert.Equal(FailureKind.Integrity, e.Kind);
        Assert.Contains("truncated", e.Message);
        Assert.False(Directory.Exists(Path.Combine(_dir, "out/a")));
    }

    [Fact]
    public async Task HashingReadStream_ForASource_ReportsAChangeNotCorruption()
    {
        var source = new HashingReadStream(new MemoryStream([1, 2, 3, 4]), expectedSha256: null, expectedLength: 3, what: "/tmp/f", mismatch: FailureKind.Operational);
        var e = await Assert.ThrowsAsync<S3PodException>(() => source.CopyToAsync(Stream.Null));
        Assert.Equal(FailureKind.Operational, e.Kind);
        Assert.Contains("changed while it was being uploaded", e.Message);
    }

    /// <summary>Claims one byte more than it delivers.</summary>
    private sealed class ShortDeliveryStore(IObjectStore inner) : IObjectStore
    {
        public string Location => inner.Location;
        public string Identity => inner.Identity;
        public Task<ObjectInfo?> HeadAsync(string key, CancellationToken ct) => inner.HeadAsync(key, ct);
        public Task<PutOutcome> PutAsync(string key, Stream content, PutOptions options, CancellationToken ct) => inner.PutAsync(key, content, options, ct);
        public async Task<ObjectReader?> OpenReadAsync(string key, ReadOptions options, CancellationToken ct) =>
            await inner.OpenReadAsync(key, options, ct) is { } r ? r with { Info = r.Info with { Size = r.Info.Size + 1 } } : null;
        public IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken ct, string? startAfter = null) => inner.ListAsync(prefix, ct, startAfter);
        public Task<DeleteOutcome> DeleteAsync(string key, CancellationToken ct, string? ifMatch = null) => inner.DeleteAsync(key, ct, ifMatch);
        public Task CheckAccessAsync(CancellationToken ct) => inner.CheckAccessAsync(ct);
        public Task<StoreCapabilities> GetCapabilitiesAsync(CancellationToken ct, bool refresh = false) => inner.GetCapabilitiesAsync(ct, refresh);
        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
