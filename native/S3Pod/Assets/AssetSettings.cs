using S3Pod.Config;

namespace S3Pod.Assets;

/// <summary>The asset settings in force (after precedence), read by <see cref="Settings.Resolve"/>.</summary>
/// <param name="Ttl">How long an object-cache copy is used without asking the store; zero: ask every time.</param>
/// <param name="Immutable">Buckets and prefixes whose objects never change: cached copies are never revalidated.</param>
/// <param name="AssetsDir">The local assets directory, <c>ASSETS_DIR/&lt;name&gt;/&lt;version&gt;</c>.</param>
/// <param name="Manifest">The manifest as given (relative to the working directory), or null for the default.</param>
internal sealed record AssetSettings(TimeSpan Ttl, IReadOnlyList<S3Uri> Immutable, string AssetsDir, string? Manifest)
{
    public const string DefaultManifest = "s3pod.assets.json";
    /// <summary>The flat manifest's name, read when the default one is absent so projects that have one switch without renaming.</summary>
    public const string BaijiManifest = "versioned_assets.json";
    public static readonly TimeSpan DefaultTtl = TimeSpan.FromDays(1);

    public static AssetSettings Resolve(Func<Setting, string?> pick, string cacheDir, Func<string, string?> env) => new(
        pick(SettingsTable.AssetTtl) is { Length: > 0 } ttl ? ParseTtl(ttl, SettingsTable.AssetTtl.Key) : DefaultTtl,
        ParseImmutable(pick(SettingsTable.AssetImmutable)),
        Settings.ExpandHome(pick(SettingsTable.AssetsDir), env) ?? Path.Combine(cacheDir, "assets"),
        Settings.ExpandHome(pick(SettingsTable.Manifest), env));

    /// <summary>A TTL may be zero (revalidate on every use), unlike the network timeouts.</summary>
    public static TimeSpan ParseTtl(string text, string what) => Values.ParseDuration(text, what);

    private static IReadOnlyList<S3Uri> ParseImmutable(string? list) =>
        (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(item => S3Uri.ParsePrefix(item, SettingsTable.AssetImmutable.Key))
            .ToList();

    public bool IsImmutable(S3Uri uri) => Immutable.Any(p => p.Covers(uri));

    /// <summary>How long checking a cached copy may take before the copy is served stale (revalidate_timeout).</summary>
    public TimeSpan RevalidateTimeout { get; init; } = Storage.NetworkPolicy.DefaultRevalidateTimeout;
}
