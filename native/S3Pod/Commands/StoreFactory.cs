using S3Pod.Config;
using S3Pod.Output;
using S3Pod.Storage;

namespace S3Pod.Commands;

/// <summary>Opens the configured store: S3 when a bucket is set, else the embedded local directory
/// store (said once on stderr, so nobody mistakes it for their bucket).</summary>
internal sealed class StoreFactory(Settings settings, Func<string, string?> env, Reporter reporter, TimeProvider clock)
{
    public Settings Settings => settings;

    /// <summary>The <see cref="IObjectStore.Identity"/> of the store <see cref="Open"/> returns, without opening it.</summary>
    public string Identity => settings.Bucket is null
        ? LocalObjectStore.IdentityOf(settings.StoreDir, settings.Prefix)
        : S3ObjectStore.IdentityOf(settings.Endpoint, settings.Region, settings.Bucket, settings.Prefix);

    public IObjectStore Open(bool announce = true)
    {
        if (settings.Bucket is null)
        {
            var local = new LocalObjectStore(settings.StoreDir, settings.Prefix, clock);
            if (announce) reporter.Info($"s3pod: no bucket configured; using the local store {local.Location}");
            return local;
        }
        var credentials = Credentials.Resolve(settings, env);
        return new S3ObjectStore(
            new S3Target(settings.Endpoint, settings.Region, settings.Bucket, settings.Prefix, credentials.Static),
            settings.Network,
            new CapabilityCache(settings.CacheDir, clock),
            clock);
    }

    /// <summary>Another bucket on the configured endpoint, with the same credentials and no prefix: an
    /// <c>s3://bucket/key</c> URI names its object exactly (the asset object cache).</summary>
    public IObjectStore OpenBucket(string bucket) =>
        new S3ObjectStore(
            new S3Target(settings.Endpoint, settings.Region, bucket, "", Credentials.Resolve(settings, env).Static),
            settings.Network,
            new CapabilityCache(settings.CacheDir, clock),
            clock);
}
