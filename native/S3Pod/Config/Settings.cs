using S3Pod.Storage;
using Tomlyn;
using Tomlyn.Model;
using Tomlyn.Serialization;

namespace S3Pod.Config;

/// <summary>Values given on the command line; null means "not given".</summary>
internal sealed record CliSettings(
    string? Endpoint = null,
    string? Region = null,
    string? Bucket = null,
    string? Prefix = null,
    string? KeyFile = null,
    string? SecretFile = null,
    bool? ArchSuffix = null,
    string? Store = null);

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
    string ConfigFilePath,
    bool ConfigFileFound)
{
    public const string DefaultRegion = "us-east-1";

    /// <summary>Config file keys, with the environment variable that overrides each.</summary>
    public static readonly IReadOnlyDictionary<string, string> FileKeys = new Dictionary<string, string>
    {
        ["endpoint"] = "S3POD_ENDPOINT",
        ["region"] = "S3POD_REGION",
        ["bucket"] = "S3POD_BUCKET",
        ["prefix"] = "S3POD_PREFIX",
        ["key_file"] = "S3POD_KEY_FILE",
        ["secret_file"] = "S3POD_SECRET_FILE",
        ["arch_suffix"] = "S3POD_ARCH_SUFFIX",
        ["store"] = "S3POD_STORE",
    };

    public static Settings Resolve(CliSettings cli, Func<string, string?> env)
    {
        var configPath = ConfigPath(env);
        var file = ConfigFile.Load(configPath);

        string? Pick(string? flag, string fileKey)
        {
            if (!string.IsNullOrEmpty(flag)) return flag;
            var fromEnv = env(FileKeys[fileKey]);
            if (!string.IsNullOrEmpty(fromEnv)) return fromEnv;
            return file?.Get(fileKey);
        }

        var endpoint = Pick(cli.Endpoint, "endpoint");
        if (endpoint is not null) endpoint = ValidateEndpoint(endpoint);
        var archText = cli.ArchSuffix is { } a ? (a ? "true" : "false") : Pick(null, "arch_suffix");
        bool arch = archText switch
        {
            null or "" => false,
            "true" or "1" or "yes" => true,
            "false" or "0" or "no" => false,
            _ => throw S3PodException.Usage($"arch_suffix must be true or false, not '{archText}'"),
        };
        var bucket = Pick(cli.Bucket, "bucket");
        if (bucket is not null && (bucket.Length < 3 || bucket.Contains('/')))
            throw S3PodException.Usage($"bucket name '{bucket}' is not valid (3-63 characters, no '/'); put key prefixes in --prefix");

        return new Settings(
            endpoint,
            Pick(cli.Region, "region") ?? DefaultRegion,
            bucket,
            Pick(cli.Prefix, "prefix") ?? "",
            ExpandHome(Pick(cli.KeyFile, "key_file"), env),
            ExpandHome(Pick(cli.SecretFile, "secret_file"), env),
            arch,
            ExpandHome(Pick(cli.Store, "store"), env) ?? DefaultStoreDir(env),
            configPath,
            file is not null);
    }

    public static string ConfigPath(Func<string, string?> env)
    {
        if (env("S3POD_CONFIG") is { Length: > 0 } explicitPath) return ExpandHome(explicitPath, env)!;
        var configHome = env("XDG_CONFIG_HOME") is { Length: > 0 } x ? x : Path.Combine(Home(env), ".config");
        return Path.Combine(configHome, "s3pod", "config.toml");
    }

    private static string DefaultStoreDir(Func<string, string?> env)
    {
        var cacheHome = env("XDG_CACHE_HOME") is { Length: > 0 } x ? x : Path.Combine(Home(env), ".cache");
        return Path.Combine(cacheHome, "s3pod", "store");
    }

    public static string Home(Func<string, string?> env) =>
        env("HOME") is { Length: > 0 } h ? h : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

    public static string? ExpandHome(string? path, Func<string, string?> env)
    {
        if (path is null) return null;
        if (path == "~") return Home(env);
        if (path.StartsWith("~/", StringComparison.Ordinal)) return Path.Combine(Home(env), path[2..]);
        return path;
    }

    private static string ValidateEndpoint(string endpoint)
    {
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != "http" && uri.Scheme != "https") || string.IsNullOrEmpty(uri.Host))
            throw S3PodException.Usage($"endpoint '{endpoint}' is not an http:// or https:// URL");
        if (!string.IsNullOrEmpty(uri.UserInfo))
            throw S3PodException.Usage("endpoint must not contain credentials; use S3POD_S3_KEY_ID/S3POD_S3_SECRET or key files");
        return endpoint.TrimEnd('/');
    }
}

/// <summary>The TOML config file: flat string/boolean keys, unknown keys refused (a typo must not silently fall back to a default).</summary>
internal sealed class ConfigFile(string path, TomlTable table)
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
            throw S3PodException.Usage($"config file {path} is not valid TOML: {e.Message.ReplaceLineEndings(" ")}");
        }
        foreach (var (key, value) in table)
        {
            if (!Settings.FileKeys.ContainsKey(key))
                throw S3PodException.Usage($"config file {path}: unknown key '{key}' (known: {string.Join(", ", Settings.FileKeys.Keys)})");
            if (value is not string and not bool)
                throw S3PodException.Usage($"config file {path}: '{key}' must be a string{(key == "arch_suffix" ? " or boolean" : "")}");
        }
        return new ConfigFile(path, table);
    }

    public string Path => path;

    public string? Get(string key) => table.TryGetValue(key, out var v) ? v switch
    {
        bool b => b ? "true" : "false",
        string s => s,
        _ => null,
    } : null;

    /// <summary>Writes the file that `init` produces. Hand-written so the output stays small and commented.</summary>
    public static string Render(IEnumerable<(string Key, object Value)> values)
    {
        var lines = new List<string> { "# s3pod configuration (written by `s3pod init`). Precedence: flag > S3POD_* env > this file." };
        foreach (var (key, value) in values)
        {
            lines.Add(value switch
            {
                bool b => $"{key} = {(b ? "true" : "false")}",
                _ => $"{key} = {Quote(value.ToString() ?? "")}",
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
