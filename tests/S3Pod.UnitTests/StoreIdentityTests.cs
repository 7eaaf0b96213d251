using S3Pod.Artifacts;
using S3Pod.Commands;
using S3Pod.Config;
using S3Pod.Output;

namespace S3Pod.UnitTests;

/// <summary>A store's identity is the store's own (no feature tells S3 from local), the factory
/// knows it without opening the store, and the local record caches it keys keep their paths.</summary>
public sealed class StoreIdentityTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("s3pod-identity-").FullName;
    private readonly Dictionary<string, string> _env = new() { ["S3POD_S3_KEY_ID"] = "id", ["S3POD_S3_SECRET"] = "secret" };

    public StoreIdentityTests() => _env["HOME"] = _dir;

    public void Dispose() => Directory.Delete(_dir, true);

    private string? Env(string name) => _env.TryGetValue(name, out var v) ? v : null;

    private StoreFactory Factory(params (string Key, string Value)[] flags) =>
        new(Settings.Resolve(flags.ToDictionary(f => f.Key, f => (string?)f.Value), Env), Env, new Reporter(new StringWriter(), false), TimeProvider.System);

    [Fact]
    public async Task TheFactoryKnowsTheIdentity_OfTheStoreItOpens()
    {
        foreach (var factory in new[]
                 {
                     Factory(("store", Path.Combine(_dir, "store")), ("prefix", "/team/")),
                     Factory(("bucket", "bkt"), ("endpoint", "http://127.0.0.1:4880"), ("prefix", "team")),
                     Factory(("bucket", "bkt"), ("region", "eu-west-1")),
                 })
        {
            await using var store = factory.Open(announce: false);
            Assert.Equal(factory.Identity, store.Identity);
        }
    }

    /// <summary>Golden values: the record-cache directory names from before stores had identities
    /// (computed from the settings), so an upgrade keeps using the records already cached.</summary>
    [Fact]
    public void RecordCacheIds_AreUnchanged()
    {
        Assert.Equal("35e787d188a90eeb864e8d9a", RecordCache.StoreId(Factory(("bucket", "bkt"), ("endpoint", "http://127.0.0.1:4880"), ("prefix", "/team/")).Identity));
        Assert.Equal("f9893b11f3e8c4e19b26c060", RecordCache.StoreId(Factory(("bucket", "bkt"), ("region", "eu-west-1")).Identity));
        Assert.Equal("dd0ced9b9f1f99d00ce461e0", RecordCache.StoreId(Factory(("store", "/x/store"), ("prefix", "team")).Identity));
    }
}
