namespace S3Pod.Config;

/// <summary>How a setting's text is read.</summary>
internal enum SettingType
{
    Text,
    Url,
    /// <summary>A path; <c>~</c> is the home directory.</summary>
    Path,
    Bool,
    /// <summary><c>500ms</c>, <c>30s</c>, <c>5m</c>, <c>12h</c>, <c>7d</c>, <c>2w</c>.</summary>
    Duration,
    /// <summary>A non-negative whole number.</summary>
    Count,
    /// <summary>Several values: a TOML array in the config file, comma-separated in env and flags.</summary>
    List,
}

/// <summary>
/// One configurable value. Its config key names everything else: the environment variable is
/// <c>S3POD_</c> + the key in upper case, the flag is <c>--</c> + the key with dashes.
/// </summary>
/// <param name="Key">The config-file key (snake_case).</param>
/// <param name="Default">The default as the README shows it.</param>
/// <param name="HasFlag">False for settings that are config/env only.</param>
internal sealed record Setting(string Key, SettingType Type, string Default, string Description, bool HasFlag = true)
{
    public string EnvVar => "S3POD_" + Key.ToUpperInvariant();

    public string? Flag => HasFlag ? "--" + Key.Replace('_', '-') : null;
}

/// <summary>
/// Every setting, in one place: it drives the global flags, the precedence rules (flag > env >
/// config file > default), the keys the config file accepts, what <c>init</c> writes and the
/// README's settings table (a unit test keeps the README in step). Adding a setting is one line
/// here plus reading it in <see cref="Settings.Resolve"/>.
/// </summary>
internal static class SettingsTable
{
    public static readonly Setting Endpoint = new("endpoint", SettingType.Url, "AWS S3", "S3 endpoint URL (MinIO, Garage, R2, Ceph RGW)");
    public static readonly Setting Region = new("region", SettingType.Text, Settings.DefaultRegion, "Region used for signing");
    public static readonly Setting Bucket = new("bucket", SettingType.Text, "none: the local store", "Bucket; without one s3pod uses its embedded local store");
    public static readonly Setting Prefix = new("prefix", SettingType.Text, "", "Joined in front of every key: the project's namespace in the bucket");
    public static readonly Setting KeyFile = new("key_file", SettingType.Path, "", "File holding the access key id");
    public static readonly Setting SecretFile = new("secret_file", SettingType.Path, "", "File holding the secret access key");
    public static readonly Setting ArchSuffix = new("arch_suffix", SettingType.Bool, "false", "Append -<os>-<arch> (Go names, e.g. linux-amd64) to keys");
    public static readonly Setting Store = new("store", SettingType.Path, "<cache_dir>/store", "Directory of the local store used when no bucket is set");
    public static readonly Setting CacheDir = new("cache_dir", SettingType.Path, "~/.cache/s3pod (%LOCALAPPDATA%\\s3pod)", "s3pod's local caches: server capabilities, artifact and asset copies");
    public static readonly Setting ConnectTimeout = new("connect_timeout", SettingType.Duration, "10s", "Limit for establishing a connection");
    public static readonly Setting FirstByteTimeout = new("first_byte_timeout", SettingType.Duration, "60s", "Limit from a request sent to the first byte of its answer");
    public static readonly Setting IdleTimeout = new("idle_timeout", SettingType.Duration, "30s", "Limit for a transfer with no byte moving");
    public static readonly Setting Retries = new("retries", SettingType.Count, "5", "Retries of a failed request or body read, with backoff");
    public static readonly Setting OperationTimeout = new("operation_timeout", SettingType.Duration, "120s",
        "Limit for a whole operation without progress, over all its requests, retries and backoff");
    public static readonly Setting RevalidateTimeout = new("revalidate_timeout", SettingType.Duration, "15s",
        "Limit for checking a cached copy that could serve stale (object cache, unpinned assets) before serving it with a warning");
    public static readonly Setting FileSystem = new("fs", SettingType.Text, "by OS", "File-system layer of the archive code: linux (the statx fast path) or portable (.NET APIs; the default off Linux)", HasFlag: false);
    public static readonly Setting Zstd = new("zstd", SettingType.Text, "native", "zstd encoder: native (the system's libzstd when present) or managed (ZstdSharp)", HasFlag: false);
    public static readonly Setting ChunkCache = new("chunk_cache", SettingType.Path, "<cache_dir>/chunks, off on hosted runners",
        "Local cache of chunked cache entries' chunks (a directory or `off`): a warm runner downloads only the chunks it lacks", HasFlag: false);
    public static readonly Setting ChunkCacheSize = new("chunk_cache_size", SettingType.Text, "2G", "Budget of the chunk cache; least recently used chunks go first", HasFlag: false);
    public static readonly Setting AssumeSingleWriter = new("assume_single_writer", SettingType.Bool, "false",
        "Let artifact writes run on a server that does not enforce conditional writes; you guarantee one writer at a time");
    public static readonly Setting AssetTtl = new("asset_ttl", SettingType.Duration, "1d",
        "How long a cached s3:// object is used before one HEAD checks its ETag; 0s checks on every use (`--ttl` on asset commands)", HasFlag: false);
    public static readonly Setting AssetImmutable = new("asset_immutable", SettingType.List, "",
        "s3://bucket[/prefix] locations whose objects never change: their cached copies are never checked again", HasFlag: false);
    public static readonly Setting AssetsDir = new("assets_dir", SettingType.Path, "<cache_dir>/assets", "Local assets directory: ASSETS_DIR/<name>/<version>, browsable");
    public static readonly Setting Manifest = new("manifest", SettingType.Path, "s3pod.assets.json (else versioned_assets.json)",
        "The asset manifest that pins versions, relative to the working directory");

    public static IReadOnlyList<Setting> All { get; } =
    [
        Endpoint, Region, Bucket, Prefix, KeyFile, SecretFile, ArchSuffix, Store, CacheDir,
        ConnectTimeout, FirstByteTimeout, IdleTimeout, Retries, OperationTimeout, RevalidateTimeout, AssumeSingleWriter, FileSystem, Zstd,
        ChunkCache, ChunkCacheSize,
        AssetTtl, AssetImmutable, AssetsDir, Manifest,
    ];

    public static Setting? ByKey(string key) => All.FirstOrDefault(s => s.Key == key);

    /// <summary>The README table, generated (SettingsTableTests compares it with README.md).</summary>
    public static string Markdown()
    {
        var lines = new List<string>
        {
            "| config key | flag | environment | default | what it sets |",
            "|---|---|---|---|---|",
        };
        foreach (var s in All)
            lines.Add($"| `{s.Key}` | {(s.Flag is null ? "" : $"`{s.Flag}`")} | `{s.EnvVar}` | {(s.Default.Length == 0 ? "" : s.Default)} | {s.Description} |");
        return string.Join('\n', lines) + "\n";
    }
}
