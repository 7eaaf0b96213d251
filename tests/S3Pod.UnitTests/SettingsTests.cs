using S3Pod.Commands;
using S3Pod.Config;

namespace S3Pod.UnitTests;

public class SettingsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("s3pod-settings-").FullName;
    private readonly Dictionary<string, string> _env = new();

    public SettingsTests() => _env["HOME"] = _dir;

    public void Dispose() => Directory.Delete(_dir, true);

    private string? Env(string name) => _env.TryGetValue(name, out var v) ? v : null;

    private static readonly Dictionary<string, string?> NoFlags = new();

    private static Dictionary<string, string?> Flags(params (string Key, string Value)[] flags) => flags.ToDictionary(f => f.Key, f => (string?)f.Value);

    private void WriteConfig(string text)
    {
        var path = Path.Combine(_dir, ".config/s3pod/config.toml");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    [Fact]
    public void Precedence_FlagOverEnvOverFileOverDefault()
    {
        WriteConfig("endpoint = \"http://file:1\"\nbucket = \"file-bucket\"\nprefix = \"file\"\nregion = \"eu-file-1\"\n");
        _env["S3POD_BUCKET"] = "env-bucket";
        _env["S3POD_PREFIX"] = "env";
        var s = Settings.Resolve(Flags(("prefix", "flag")), Env);
        Assert.Equal("flag", s.Prefix);
        Assert.Equal("env-bucket", s.Bucket);
        Assert.Equal("http://file:1", s.Endpoint);
        Assert.Equal("eu-file-1", s.Region);
        Assert.True(s.ConfigFileFound);

        var defaults = Settings.Resolve(NoFlags, n => n == "HOME" ? _dir + "/nowhere" : null);
        Assert.Equal(Settings.DefaultRegion, defaults.Region);
        Assert.Null(defaults.Bucket);
        Assert.EndsWith("s3pod/store", defaults.StoreDir);
    }

    [Fact]
    public void ConfigPath_FollowsS3PodConfig()
    {
        var path = Path.Combine(_dir, "elsewhere.toml");
        File.WriteAllText(path, "bucket = \"other\"\narch_suffix = true\n");
        _env["S3POD_CONFIG"] = path;
        var s = Settings.Resolve(NoFlags, Env);
        Assert.Equal("other", s.Bucket);
        Assert.True(s.ArchSuffix);
    }

    [Theory]
    [InlineData("bucket = ", "not valid TOML")]
    [InlineData("buckett = \"x\"", "unknown key 'buckett'")]
    [InlineData("bucket = 3", "must be a string")]
    public void BadConfig_IsOneLineUsageError(string text, string expected)
    {
        WriteConfig(text);
        var e = Assert.Throws<S3PodException>(() => Settings.Resolve(NoFlags, Env));
        Assert.Equal(ExitCodes.OperationalError, ExitCodes.For(e.Kind));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("ftp://x", "is not an http")]
    [InlineData("not a url", "is not an http")]
    [InlineData("http://user:hunter2@host:9000", "must not contain credentials")]
    [InlineData("ftp://user:hunter2@host", "is not an http")]
    [InlineData("user:hunter2@host", "is not an http")]
    [InlineData("http://user:hunter2@", "is not an http")]
    public void BadEndpoint_IsRefused_WithoutEchoingAPassword(string endpoint, string expected)
    {
        var e = Assert.Throws<S3PodException>(() => Settings.Resolve(Flags(("endpoint", endpoint)), Env));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain("hunter2", e.Message);
    }

    [Fact]
    public void Credentials_EnvOverFiles_AndFilesAreTrimmed()
    {
        File.WriteAllText(Path.Combine(_dir, "id"), "FILEID\n");
        File.WriteAllText(Path.Combine(_dir, "secret"), "filesecret\n");
        var s = Settings.Resolve(Flags(("bucket", "bkt"), ("key_file", Path.Combine(_dir, "id")), ("secret_file", Path.Combine(_dir, "secret"))), Env);
        var fromFiles = Credentials.Resolve(s, Env);
        Assert.Equal("FILEID", fromFiles.Static!.KeyId);
        Assert.Equal("filesecret", fromFiles.Static.Secret);
        Assert.DoesNotContain("filesecret", fromFiles.Static.ToString());

        _env["S3POD_S3_KEY_ID"] = "ENVID";
        _env["S3POD_S3_SECRET"] = "envsecret";
        Assert.Equal("ENVID", Credentials.Resolve(s, Env).Static!.KeyId);

        _env.Remove("S3POD_S3_SECRET");
        Assert.Throws<S3PodException>(() => Credentials.Resolve(s, Env));
    }

    [Fact]
    public void MissingKeyFile_NamesTheSetting_NeverTheValue()
    {
        // People pass the secret itself where its file name belongs: the value must not be echoed.
        var s = Settings.Resolve(Flags(("bucket", "bkt"), ("key_file", "AKIASECRETVALUE"), ("secret_file", "/nonexistent/secret")), Env);
        var e = Assert.Throws<S3PodException>(() => Credentials.Resolve(s, Env));
        Assert.Contains("key_file", e.Message);
        Assert.DoesNotContain("AKIASECRETVALUE", e.Message);
    }

    [Fact]
    public void Render_RoundTripsThroughTheParser()
    {
        var text = ConfigFile.Render([(SettingsTable.Endpoint, "http://127.0.0.1:9000"), (SettingsTable.Prefix, "we\"ird\\"), (SettingsTable.ArchSuffix, "true"), (SettingsTable.Retries, "7")]);
        WriteConfig(text);
        var s = Settings.Resolve(NoFlags, Env);
        Assert.Equal("we\"ird\\", s.Prefix);
        Assert.True(s.ArchSuffix);
        Assert.Equal(7, s.Network.Retries);
    }

    [Fact]
    public void AssetDefaults_InTheTable_AreTheOnesTheAssetsUse()
    {
        // Config names no feature, so the table states the asset defaults as text: keep it true.
        Assert.Equal($"{S3Pod.Assets.AssetSettings.DefaultManifest} (else {S3Pod.Assets.AssetSettings.BaijiManifest})", SettingsTable.Manifest.Default);
        Assert.Equal(S3Pod.Assets.AssetSettings.DefaultTtl, Values.ParseDuration(SettingsTable.AssetTtl.Default, "asset_ttl"));
        var s = Settings.Resolve(Flags(("assets_dir", "/x/assets")), Env);
        Assert.Equal("/x/assets", S3Pod.Assets.AssetSettings.Resolve(s.Pick, s.CacheDir, Env).AssetsDir);
    }
}
