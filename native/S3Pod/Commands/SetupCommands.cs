using System.CommandLine;
using S3Pod.Config;
using S3Pod.Output;
using S3Pod.Storage;

namespace S3Pod.Commands;

/// <summary><c>init</c> writes the config file after a smoke test passes; <c>doctor</c> repeats the test.</summary>
internal static class SetupCommands
{
    public static Command Init(CliApp app)
    {
        var createBucket = new Option<bool>("--create-bucket") { Description = "Create the bucket when it does not exist" };
        var force = new Option<bool>("--force") { Description = "Write the config even when the smoke test fails" };
        var command = new Command("init", "Write the config file (~/.config/s3pod/config.toml or $S3POD_CONFIG) and run the smoke test") { createBucket, force };
        app.Bind(command, async (ctx, ct) =>
        {
            var path = Settings.ConfigPath(ctx.Env);
            var existing = ConfigFile.Load(path);
            var flags = GlobalOptions.ReadFlags(ctx.Parse);
            // Keep what the file already says; the flags given now win. Secrets are never written:
            // only the paths of the files that hold them, checked to be readable files first.
            var values = new List<(Setting, string)>();
            foreach (var setting in SettingsTable.All)
            {
                string? value = flags.GetValueOrDefault(setting.Key);
                if (value is not null && setting.Type == SettingType.Path)
                {
                    value = Path.GetFullPath(Settings.ExpandHome(value, ctx.Env)!, ctx.WorkingDirectory);
                    if (setting == SettingsTable.KeyFile || setting == SettingsTable.SecretFile)
                        Credentials.ReadSecretFile(value, $"{setting.Key} ({setting.Flag})");
                }
                value ??= existing?.Get(setting.Key);
                if (value is not null) values.Add((setting, value));
            }

            if (ctx.Parse.GetValue(createBucket) && ctx.Settings.Bucket is not null)
            {
                await using var store = ctx.Stores.Open(announce: false);
                if (store is IBucketAdmin admin) await admin.EnsureBucketAsync(ct);
            }
            var result = await RunChecksAsync(ctx, ct);
            if (!result.Ok && !ctx.Parse.GetValue(force))
            {
                Print(ctx, result);
                throw S3PodException.Operational($"smoke test failed; {path} not written (fix the problem, or pass --force)");
            }
            try
            {
                Local.AtomicFile.Write(path, System.Text.Encoding.UTF8.GetBytes(ConfigFile.Render(values)));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw S3PodException.Operational($"cannot write {path}: {e.Message}");
            }
            ctx.Reporter.Info($"wrote {path}");
            Print(ctx, result with { ConfigFile = path });
            return result.Ok ? ExitCodes.Success : ExitCodes.OperationalError;
        });
        return command;
    }

    public static Command Doctor(CliApp app)
    {
        var command = new Command("doctor", "Check configuration, credentials, access, a 1-byte canary and what the server enforces (conditional writes, probed afresh)");
        app.Bind(command, async (ctx, ct) =>
        {
            var result = await RunChecksAsync(ctx, ct);
            Print(ctx, result);
            return result.Ok ? ExitCodes.Success : ExitCodes.OperationalError;
        });
        return command;
    }

    private static void Print(CommandContext ctx, DoctorResult result)
    {
        foreach (var check in result.Checks) ctx.Reporter.Info($"{(check.Ok ? "ok  " : "FAIL")} {check.Name}: {check.Detail}");
        ctx.Output.Write(result, CliJson.Default.DoctorResult);
    }

    /// <summary>The settings' checks (config, credentials), then the store's (<see cref="StoreDoctor"/>).
    /// Each check records its outcome instead of throwing, so one run shows every problem.</summary>
    private static async Task<DoctorResult> RunChecksAsync(CommandContext ctx, CancellationToken ct)
    {
        var checks = new List<StoreCheck>();
        Settings settings;
        try
        {
            settings = ctx.Settings;
            checks.Add(new("config", true, settings.ConfigFileFound ? settings.ConfigFilePath : $"{settings.ConfigFilePath} (not present; using flags, env and defaults)"));
        }
        catch (S3PodException e)
        {
            checks.Add(new("config", false, e.Message));
            return new DoctorResult("?", false, checks, null, null);
        }
        string? configFile = settings.ConfigFileFound ? settings.ConfigFilePath : null;

        if (settings.Bucket is not null)
        {
            try
            {
                var creds = Credentials.Resolve(settings, ctx.Env);
                checks.Add(new("credentials", true, creds.Static is { } c
                    // Enough to spot a swapped or truncated secret without revealing it.
                    ? $"{creds.Source}; key id {c.KeyId[..Math.Min(4, c.KeyId.Length)]}… ({c.KeyId.Length} chars), secret {c.Secret.Length} chars"
                    : creds.Source));
            }
            catch (S3PodException e)
            {
                checks.Add(new("credentials", false, e.Message));
                return new DoctorResult($"s3://{settings.Bucket}", false, checks, configFile, null);
            }
        }

        await using var store = ctx.Stores.Open(announce: false);
        var location = store.Location;
        checks.Add(new("store", true, location + (settings.Endpoint is { } ep ? $" at {Redaction.Url(ep)}" : settings.Bucket is null ? " (local store: no bucket configured)" : "")));

        var capabilities = await StoreDoctor.CheckAsync(store, checks, ct);
        return new DoctorResult(location, checks.All(c => c.Ok), checks, configFile, capabilities);
    }
}
