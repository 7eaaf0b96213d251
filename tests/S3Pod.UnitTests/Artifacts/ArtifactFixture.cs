using Microsoft.Extensions.Time.Testing;
using S3Pod.Archive;
using S3Pod.Artifacts;
using S3Pod.Output;
using S3Pod.Storage;

namespace S3Pod.UnitTests.Artifacts;

/// <summary>
/// The artifact service on the real local directory store, with a fake clock (ages are tested by
/// moving time, not by sleeping). Each <see cref="Service"/> call is a fresh service, as each CLI
/// invocation is; they share the store and, unless told otherwise, the local caches.
/// </summary>
public sealed class ArtifactFixture : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("s3pod-artifacts-").FullName;
    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    public StringWriter Log { get; } = new();
    internal IObjectStore Store { get; }
    internal IFileSystem FileSystem { get; } = FileSystems.Select(Environment.GetEnvironmentVariable("S3POD_FS"));
    public string Work { get; }

    public ArtifactFixture()
    {
        Store = new LocalObjectStore(Path.Combine(Root, "store"), "p", Clock);
        Work = Directory.CreateDirectory(Path.Combine(Root, "work")).FullName;
    }

    /// <param name="cache">Which local cache directory (a second machine gets its own).</param>
    /// <param name="store">The store this service sees (default: the shared one); a function so a test can forbid opening it.</param>
    internal ArtifactService Service(string cache = "cache", Func<IObjectStore>? store = null, Action<string>? crashAfter = null, IObjectStore? through = null) =>
        new(store ?? (() => through ?? Store), new ArtifactOptions("test", Path.Combine(Root, cache, "artifacts"), "store-1", AssumeSingleWriter: false, crashAfter),
            new Reporter(TextWriter.Synchronized(Log), false), Clock, FileSystem);

    public string File(string rel, string text)
    {
        var p = Path.Combine(Work, rel);
        Directory.CreateDirectory(Path.GetDirectoryName(p)!);
        System.IO.File.WriteAllText(p, text);
        return p;
    }

    internal Task<PushResult> Push(string name, string path, string? scheme = null, VersionRequest? version = null, string[]? aliases = null, ArtifactService? service = null) =>
        (service ?? Service()).PushAsync(new PushRequest(name, path, scheme, version ?? VersionRequest.Default, aliases ?? [], new Dictionary<string, string>(), null, 3), default);

    internal Task<PushResult> PushText(string name, string text, string? scheme = null, VersionRequest? version = null, string[]? aliases = null) =>
        Push(name, File($"src/{Guid.NewGuid():N}.txt", text), scheme, version, aliases);

    internal Task<AliasResult> SetAlias(string name, string alias, string version, string? expect = null, string? secondary = null, int? weight = null, ArtifactService? service = null) =>
        (service ?? Service()).SetAliasAsync(new AliasSetRequest(name, alias, version, secondary, weight, expect), default);

    internal async Task<string> Cat(string spec, ArtifactService? service = null)
    {
        var ms = new MemoryStream();
        await (service ?? Service()).CatAsync(ArtifactSpec.Parse(spec), ms, default);
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }

    internal async Task<List<string>> Keys(string prefix)
    {
        var keys = new List<string>();
        await foreach (var o in Store.ListAsync(prefix, default)) keys.Add(o.Key);
        return keys;
    }

    public void Dispose()
    {
        // Cached content is read-only; make it deletable.
        foreach (var f in Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories))
            try { System.IO.File.SetAttributes(f, FileAttributes.Normal); } catch (IOException) { }
        Directory.Delete(Root, true);
    }
}

/// <summary>
/// A real store with a hook before selected writes: how a test puts another writer's step exactly
/// between two steps of the code under test (an rm landing between an alias write and its check).
/// </summary>
internal sealed class InterleavingStore(IObjectStore inner, Func<string, Task> beforePut) : IObjectStore
{
    public string Location => inner.Location;
    public string Identity => inner.Identity;
    public Task<ObjectInfo?> HeadAsync(string key, CancellationToken ct) => inner.HeadAsync(key, ct);

    public async Task<PutOutcome> PutAsync(string key, Stream content, PutOptions options, CancellationToken ct)
    {
        await beforePut(key);
        return await inner.PutAsync(key, content, options, ct);
    }

    public Task<ObjectReader?> OpenReadAsync(string key, ReadOptions options, CancellationToken ct) => inner.OpenReadAsync(key, options, ct);
    public IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken ct, string? startAfter = null) => inner.ListAsync(prefix, ct, startAfter);
    public Task<DeleteOutcome> DeleteAsync(string key, CancellationToken ct, string? ifMatch = null) => inner.DeleteAsync(key, ct, ifMatch);
    public Task CheckAccessAsync(CancellationToken ct) => inner.CheckAccessAsync(ct);
    public Task<StoreCapabilities> GetCapabilitiesAsync(CancellationToken ct, bool refresh = false) => inner.GetCapabilitiesAsync(ct, refresh);
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
