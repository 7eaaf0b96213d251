using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using S3Pod.Config;
using S3Pod.Output;
using S3Pod.Storage;

namespace S3Pod.Commands;

/// <summary>
/// What a command needs from the outside world, built once per invocation from the parse result and
/// the environment: settings after precedence, the store, and the two output channels. Commands
/// never read the environment or the console themselves, so tests can run them in-process.
/// </summary>
internal sealed class RunContext(ParseResult parse, Func<string, string?> env, TextWriter stdout, Reporter reporter, string workingDirectory)
{
    private Settings? _settings;
    private IObjectStore? _store;
    private Archive.IFileSystem? _fileSystem;

    public ParseResult Parse { get; } = parse;
    public Func<string, string?> Env { get; } = env;
    public TextWriter Stdout { get; } = stdout;
    public Reporter Reporter { get; } = reporter;
    public string WorkingDirectory { get; } = workingDirectory;
    public bool Json => Parse.GetValue(GlobalOptions.Json);

    public Settings Settings => _settings ??= Settings.Resolve(GlobalOptions.ReadCli(Parse), Env);

    public bool ArchSuffix => Settings.ArchSuffix;

    /// <summary>The archive layer's file system: by OS, or S3POD_FS (bad value: exit 2 when a command first archives).</summary>
    public Archive.IFileSystem FileSystem => _fileSystem ??= Archive.FileSystems.Select(Env("S3POD_FS"));

    /// <summary>The configured store: S3 when a bucket is set, else the embedded local directory store.</summary>
    public IObjectStore Store => _store ??= OpenStore(announce: true);

    public IObjectStore OpenStore(bool announce)
    {
        var s = Settings;
        if (s.Bucket is null)
        {
            var local = new LocalObjectStore(s.StoreDir, s.Prefix);
            if (announce) Reporter.Info($"s3pod: no bucket configured; using the local store {local.Location}");
            return local;
        }
        var credentials = Credentials.Resolve(s, Env);
        return new S3ObjectStore(new S3Target(s.Endpoint, s.Region, s.Bucket, s.Prefix, credentials.Static));
    }

    /// <summary>Applies the config's arch suffix to a key given on the command line.</summary>
    public string StoreKey(string key)
    {
        ValidateKey(key);
        return ArchSuffix ? Keys.KeyTemplate.InsertBeforeExtension(key, "-" + Keys.KeyTemplate.HostPlatform()) : key;
    }

    public static void ValidateKey(string key)
    {
        if (string.IsNullOrWhiteSpace(key)) throw S3PodException.Usage("the key is empty");
        if (key.StartsWith('/') || key.Contains("//") || key.Split('/').Any(s => s is "." or ".."))
            throw S3PodException.Usage($"key '{key}' is not valid: no leading '/', empty, '.' or '..' segments");
        if (key.Length > 900) throw S3PodException.Usage($"key is too long ({key.Length} characters; S3 allows 1024 with the prefix)");
        if (key.Any(char.IsControl)) throw S3PodException.Usage("key contains control characters");
    }

    public string ResolvePath(string path) =>
        Path.GetFullPath(Settings.ExpandHome(path, Env)!, WorkingDirectory);

    /// <summary>Reports an upload that did not happen because the key is there: it existed, or a
    /// racing writer created it first (create-only write lost). Both are a success.</summary>
    public int SkippedUpload(string key, string action, string? path, TimeSpan elapsed, bool meanwhile)
    {
        Reporter.Info(meanwhile ? $"{key} was created meanwhile by another writer; skipping upload" : $"{key} exists; skipping upload (use --force to overwrite)");
        if (Json) WriteJson(new TransferResult(key, action, 0, elapsed.TotalSeconds, Path: path, Skipped: true), S3PodJson.Default.TransferResult);
        return ExitCodes.Success;
    }

    /// <summary>Writes the one JSON object of a --json run.</summary>
    public void WriteJson<T>(T value, JsonTypeInfo<T> type)
    {
        Stdout.WriteLine(JsonSerializer.Serialize(value, type));
        Stdout.Flush();
    }

    public async ValueTask DisposeAsync()
    {
        if (_store is not null) await _store.DisposeAsync();
    }
}
