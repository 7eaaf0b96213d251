using System.CommandLine;
using System.Net;
using S3Pod.Archive;
using S3Pod.Assets;
using S3Pod.Config;
using S3Pod.Output;
using S3Pod.Storage;

namespace S3Pod.Commands;

/// <summary>
/// One command invocation, on the command layer's side: the parse result, the environment, the two
/// output channels, and the collaborators services are built from (settings after precedence, the
/// store, a clock, an HTTP client), each made on first use. Nothing below the command layer sees
/// a ParseResult or reads the environment.
/// </summary>
internal sealed class CommandContext(ParseResult parse, Func<string, string?> env, ResultWriter output, Reporter reporter, string workingDirectory, TimeProvider clock)
    : IAsyncDisposable
{
    private Settings? _settings;
    private AssetSettings? _assetSettings;
    private IObjectStore? _store;
    private HttpClient? _http;
    private IFileSystem? _fileSystem;

    public ParseResult Parse { get; } = parse;
    public Func<string, string?> Env { get; } = env;
    public ResultWriter Output { get; } = output;
    public Reporter Reporter { get; } = reporter;
    public string WorkingDirectory { get; } = workingDirectory;
    public TimeProvider Clock { get; } = clock;
    public string Home => Settings.Home(Env);

    public Settings Settings => _settings ??= Apply(Settings.Resolve(GlobalOptions.ReadFlags(Parse), Env));

    /// <summary>The asset settings (ttl, immutable locations, assets directory, manifest), resolved
    /// with the other settings so a bad value fails every command alike.</summary>
    public AssetSettings AssetSettings
    {
        get
        {
            _ = Settings;
            return _assetSettings!;
        }
    }

    /// <summary>The few settings that are process-wide choices of lower layers.</summary>
    private Settings Apply(Settings settings)
    {
        _assetSettings = AssetSettings.Resolve(settings.Pick, settings.CacheDir, Env) with { RevalidateTimeout = settings.Network.RevalidateTimeout };
        ZstdEncoder.PreferNative = !settings.ManagedZstd;
        return settings;
    }

    public StoreFactory Stores => new(Settings, Env, Reporter, Clock);

    /// <summary>The archive layer's file system: by OS, or the <c>fs</c> setting (S3POD_FS=portable).</summary>
    public IFileSystem FileSystem => _fileSystem ??= FileSystems.Select(Settings.FileSystem);

    /// <summary>The configured store, opened once per command.</summary>
    public IObjectStore Store => _store ??= Stores.Open(announce: true);

    /// <summary>For URL downloads; every wait is bounded by a TransferWatchdog in FileService (so no
    /// fixed overall timeout cuts a large download that is still moving).</summary>
    public HttpClient Http => _http ??= new HttpClient(new SocketsHttpHandler
    {
        AllowAutoRedirect = true,
        MaxAutomaticRedirections = 10,
        ConnectTimeout = Settings.Network.ConnectTimeout,
        ConnectCallback = Streams.WatchedConnections.ConnectAsync,
        AutomaticDecompression = DecompressionMethods.None,
    })
    { Timeout = System.Threading.Timeout.InfiniteTimeSpan };

    /// <summary>A key given on the command line, validated and with the configured arch suffix.</summary>
    public string StoreKey(string key)
    {
        ObjectKeys.Validate(key, Settings.Prefix);
        var withSuffix = Settings.ArchSuffix ? Keys.KeyTemplate.InsertBeforeExtension(key, "-" + Keys.KeyTemplate.HostPlatform()) : key;
        return ObjectKeys.Validate(withSuffix, Settings.Prefix);
    }

    /// <summary>A path given on the command line: ~ expanded, relative to the working directory.</summary>
    public string ResolvePath(string path)
    {
        if (string.IsNullOrEmpty(path)) throw S3PodException.Usage("a path argument is empty");
        var full = Path.GetFullPath(Settings.ExpandHome(path, Env)!, WorkingDirectory);
        // Windows makes "CON.txt" or "out/NUL" the device \\.\CON in any directory: say so rather than fail inside.
        if (OperatingSystem.IsWindows() && full.StartsWith(@"\\.\", StringComparison.Ordinal) && !path.StartsWith(@"\\.\", StringComparison.Ordinal))
            throw S3PodException.Usage($"'{path}' names the Windows device {full[4..]}, not a file: CON, PRN, AUX, NUL, COM1-9 and LPT1-9 are reserved in every directory, with any extension");
        return full;
    }

    public async ValueTask DisposeAsync()
    {
        if (_store is not null) await _store.DisposeAsync();
        _http?.Dispose();
    }
}
