using System.Globalization;
using S3Pod.Output;
using S3Pod.Storage;
using Tomlyn;
using Tomlyn.Model;
using Tomlyn.Serialization;

namespace S3Pod.Config;

/// <summary>The configuration in force for one run, after precedence: flag > S3POD_* env > config file > default.</summary>
internal sealed record Settings(
    string? Endpoint,
    string Region,
    string? Bucket,
    string Prefix,
    string? KeyFile,
    string? SecretFile,
    bool ArchSuffix,
    string StoreDir,
    string CacheDir,
    NetworkPolicy Network,
    bool AssumeSingleWriter,
    string? FileSystem,
    bool ManagedZstd,
    string ConfigFilePath,
    bool ConfigFileFound)
{
    public const string DefaultRegion = "us-east-1";

    /// <summary>Any setting's value after precedence (flag, env, config file; null: not set), for
    /// the settings a feature reads itself (the asset settings, resolved by the command layer).</summary>
    public Func<Setting, string?> Pick { get; init; } = _ => null;

    /// <summary>The local chunk cache directory, or null when it is off.</summary>
    public string? ChunkCacheDir { get; init; }

    public long ChunkCacheSize { get; init; } = 2L << 30;


    /// <summary>Resolves every setting of <see cref="SettingsTable"/>. <paramref name="flags"/> holds
    /// the values given on the command line by config key (absent or null: not given).</summary>
    public static Settings Resolve(IReadOnlyDictionary<string, string?> flags, Func<string, string?> env)
    {
        var configPath = ConfigPath(env);
        var file = ConfigFile.Load(configPath);

        string? Pick(Setting setting)
        {
            if (flags.TryGetValue(setting.Key, out var flag) && !string.IsNullOrEmpty(flag)) return flag;
            if (env(setting.EnvVar) is { Length: > 0 } fromEnv) return fromEnv;
            return file?.Get(setting.Key);
        }

        var endpoint = Pick(SettingsTable.Endpoint) is { } e ? ValidateEndpoint(e) : null;
        var bucket = Pick(SettingsTable.Bucket);
        if (bucket is not null && (bucket.Length < 3 || bucket.Length > 63 || bucket.Contains('/')))
            throw S3PodException.Usage($"bucket name '{Redaction.Apply(bucket)}' is not valid (3-63 characters, no '/'); put key prefixes in --prefix");
        var cacheDir = ExpandHome(Pick(SettingsTable.CacheDir), env) ?? DefaultCacheDir(env);
        var network = new NetworkPolicy(
            Duration(SettingsTable.ConnectTimeout, Pick(SettingsTable.ConnectTimeout)) ?? NetworkPolicy.Default.ConnectTimeout,
            Duration(SettingsTable.FirstByteTimeout, Pick(SettingsTable.FirstByteTimeout)) ?? NetworkPolicy.Default.FirstByteTimeout,
            Duration(SettingsTable.IdleTimeout, Pick(SettingsTable.IdleTimeout)) ?? NetworkPolicy.Default.IdleTimeout,
            Count(SettingsTable.Retries, Pick(SettingsTable.Retries)) ?? NetworkPolicy.Default.Retries)
        {
            OperationTimeout = Duration(SettingsTable.OperationTimeout, Pick(SettingsTable.OperationTimeout)) ?? NetworkPolicy.DefaultOperationTimeout,
            RevalidateTimeout = Duration(SettingsTable.RevalidateTimeout, Pick(SettingsTable.RevalidateTimeout)) ?? NetworkPolicy.DefaultRevalidateTimeout,
        };

        return new Settings(
            endpoint,
            Pick(SettingsTable.Region) ?? DefaultRegion,
            bucket,
            ValidStorePrefix(Pick(SettingsTable.Prefix) ?? ""),
            ExpandHome(Pick(SettingsTable.KeyFile), env),
            ExpandHome(Pick(SettingsTable.SecretFile), env),
            Bool(SettingsTable.ArchSuffix, Pick(SettingsTable.ArchSuffix)) ?? false,
            ExpandHome(Pick(SettingsTable.Store), env) ?? Path.Combine(cacheDir, "store"),
            cacheDir,
            network,
            Bool(SettingsTable.AssumeSingleWriter, Pick(SettingsTable.AssumeSingleWriter)) ?? false,
            Pick(SettingsTable.FileSystem),
            Pick(SettingsTable.Zstd) switch
            {
                null or "native" => false,
                "managed" => true,
                var other => throw S3PodException.Usage($"zstd must be 'native' or 'managed', not '{other}'"),
            },
            configPath,
            file is not null)
        {
            Pick = Pick,
            ChunkCacheDir = Pick(SettingsTable.ChunkCache) switch
            {
                "off" => null,
                null or "" => EphemeralRunner(env) ? null : Path.Combine(cacheDir, "chunks"),
                var dir => ExpandHome(dir, env),
            },
            ChunkCacheSize = Pick(SettingsTable.ChunkCacheSize) is { Length: > 0 } size ? Values.ParseSize(size, SettingsTable.ChunkCacheSize.Key) : 2L << 30,
        };
    }

    /// <summary>A runner that starts empty for every job (GitHub-hosted, Microsoft-hosted): a chunk cache there only costs disk writes.</summary>
    private static bool EphemeralRunner(Func<string, string?> env) =>
        env("RUNNER_ENVIRONMENT") == "github-hosted" || env("AGENT_ISSELFHOSTED") == "0";

    /// <summary>The store prefix may be written with leading or trailing slashes; what is between them must be a valid key.</summary>
    private static string ValidStorePrefix(string prefix)
    {
        ObjectKeys.ValidatePrefix(prefix.Trim('/'), "prefix");
        return prefix;
    }

    private static bool? Bool(Setting s, string? text) => text switch
    {
        null or "" => null,
        "true" or "1" or "yes" => true,
        "false" or "0" or "no" => false,
        _ => throw S3PodException.Usage($"{s.Key} must be true or false, not '{text}'"),
    };

    private static TimeSpan? Duration(Setting s, string? text)
    {
        if (string.IsNullOrEmpty(text)) return null;
        var d = Values.ParseDuration(text, s.Key);
        return d > TimeSpan.Zero ? d : throw S3PodException.Usage($"{s.Key} must be longer than 0, not '{text}'");
    }

    private static int? Count(Setting s, string? text)
    {
        if (string.IsNullOrEmpty(text)) return null;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n <= 100
            ? n : throw S3PodException.Usage($"{s.Key} must be a whole number from 0 to 100, not '{text}'");
    }

    public static string ConfigPath(Func<string, string?> env)
    {
        if (env("S3POD_CONFIG") is { Length: > 0 } explicitPath) return ExpandHome(explicitPath, env)!;
        if (OperatingSystem.IsWindows() && env("APPDATA") is { Length: > 0 } appData) return Path.Combine(appData, "s3pod", "config.toml");
        var configHome = env("XDG_CONFIG_HOME") is { Length: > 0 } x ? x : Path.Combine(Home(env), ".config");
        return Path.Combine(configHome, "s3pod", "config.toml");
    }

    private static string DefaultCacheDir(Func<string, string?> env)
    {
        if (OperatingSystem.IsWindows() && env("LOCALAPPDATA") is { Length: > 0 } local) return Path.Combine(local, "s3pod");
        var cacheHome = env("XDG_CACHE_HOME") is { Length: > 0 } x ? x : Path.Combine(Home(env), ".cache");
        return Path.Combine(cacheHome, "s3pod");
    }

    public static string Home(Func<string, string?> env) =>
        env("HOME") is { Length: > 0 } h ? h
        : env("USERPROFILE") is { Length: > 0 } p ? p
        : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

    public static string? ExpandHome(string? path, Func<string, string?> env)
    {
        if (path is null) return null;
        if (path == "~") return Home(env);
        if (path.StartsWith("~/", StringComparison.Ordinal) || path.StartsWith("~\\", StringComparison.Ordinal)) return Path.Combine(Home(env), path[2..]);
        return path;
    }

    private static string ValidateEndpoint(string endpoint)
    {
        // Never echo the endpoint as given: a malformed one may hold a password.
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https") || string.IsNullOrEmpty(uri.Host))
            throw S3PodException.Usage($"endpoint '{Redaction.Url(endpoint)}' is not an http:// or https:// URL");
        if (!string.IsNullOrEmpty(uri.UserInfo))
            throw S3PodException.Usage("endpoint must not contain credentials; use S3POD_S3_KEY_ID/S3POD_S3_SECRET or key files");
        // A path or query may hold a gateway's token: from here on it is hidden in every message.
        Redaction.Url(endpoint);
        return endpoint.TrimEnd('/');
    }
}

/// <summary>The TOML config file: the keys of <see cref="SettingsTable"/>, unknown keys refused (a
/// typo must not silently fall back to a default).</summary>
internal sealed partial class ConfigFile(string path, TomlTable table)
{
    public static ConfigFile? Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw S3PodException.Usage($"config file {path} cannot be read: {e.Message}");
        }
        TomlTable table;
        try
        {
            table = TomlSerializer.Deserialize(text, ConfigTomlContext.Default.TomlTable)
                ?? throw S3PodException.Usage($"config file {path} is empty or not a table");
        }
        catch (TomlException e)
        {
            throw S3PodException.Usage($"config file {path} is not valid TOML: {Problem(e.Message)}");
        }
        foreach (var (key, value) in table)
        {
            var setting = SettingsTable.ByKey(key)
                ?? throw S3PodException.Usage($"config file {path}: unknown key '{key}' (known: {string.Join(", ", SettingsTable.All.Select(s => s.Key))})");
            bool ok = setting.Type switch
            {
                SettingType.Bool => value is bool or string,
                SettingType.Count => value is long or string,
                SettingType.List => value is TomlArray or string,
                _ => value is string,
            };
            if (!ok) throw S3PodException.Usage($"config file {path}: '{key}' must be {Expected(setting.Type)}");
        }
        return new ConfigFile(path, table);
    }

    /// <summary>
    /// The first problem Tomlyn found, as "line 2, column 11: unexpected token `=` while parsing a
    /// value". Its message wraps the parser's diagnostics ("(2,11) : error : …") in a converter
    /// exception's text that means nothing to the person editing the file.
    /// </summary>
    internal static string Problem(string message)
    {
        var text = message.ReplaceLineEndings(" ");
        var reason = text.LastIndexOf("Reason: ", StringComparison.Ordinal);
        if (reason >= 0) text = text[(reason + "Reason: ".Length)..];
        var first = TomlDiagnostic().Match(text);
        if (!first.Success) return text.Trim();
        var problem = first.Groups["text"].Value.Trim().TrimEnd('.');
        if (problem.Length > 0) problem = char.ToLowerInvariant(problem[0]) + problem[1..];
        return $"line {first.Groups["line"].Value}, column {first.Groups["column"].Value}: {problem}";
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\((?<line>\d+),(?<column>\d+)\)\s*:\s*error\s*:\s*(?<text>.*?)(?=\s*\(\d+,\d+\)\s*:\s*error\s*:|$)")]
    private static partial System.Text.RegularExpressions.Regex TomlDiagnostic();

    private static string Expected(SettingType type) => type switch
    {
        SettingType.Bool => "a boolean",
        SettingType.Count => "a whole number",
        SettingType.List => "an array of strings",
        _ => "a string",
    };

    public string Path => path;

    public string? Get(string key) => table.TryGetValue(key, out var v) ? v switch
    {
        bool b => b ? "true" : "false",
        long n => n.ToString(CultureInfo.InvariantCulture),
        string s => s,
        TomlArray a => string.Join(',', a.Select(x => x?.ToString())),
        _ => null,
    } : null;

    /// <summary>Writes the file that `init` produces. Hand-written so the output stays small and commented.</summary>
    public static string Render(IEnumerable<(Setting Setting, string Value)> values)
    {
        var lines = new List<string> { "# s3pod configuration (written by `s3pod init`). Precedence: flag > S3POD_* env > this file." };
        foreach (var (setting, value) in values)
        {
            lines.Add(setting.Type switch
            {
                SettingType.Bool or SettingType.Count => $"{setting.Key} = {value}",
                SettingType.List => $"{setting.Key} = [{string.Join(", ", value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Quote))}]",
                _ => $"{setting.Key} = {Quote(value)}",
            });
        }
        return string.Join('\n', lines) + "\n";
    }

    private static string Quote(string s)
    {
        var sb = new System.Text.StringBuilder("\"");
        foreach (var c in s)
        {
            sb.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\t' => "\\t",
                < ' ' => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        }
        return sb.Append('"').ToString();
    }
}

[TomlSerializable(typeof(TomlTable))]
internal sealed partial class ConfigTomlContext : TomlSerializerContext;
