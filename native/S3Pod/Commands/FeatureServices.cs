using System.Diagnostics;
using S3Pod.Artifacts;

namespace S3Pod.Commands;

/// <summary>Feature services that more than one command group builds (the asset commands resolve
/// versions through the artifact ledger), composed here so no command group reaches into another.</summary>
internal static class FeatureServices
{
    /// <summary>Test only: the push step after which the process kills itself (content, record), to
    /// show that a push interrupted anywhere leaves the ledger consistent.</summary>
    public const string CrashAfterVariable = "S3POD_TEST_CRASH_AFTER";

    internal static ArtifactService Artifacts(CommandContext ctx)
    {
        var settings = ctx.Settings;
        Action<string>? crash = ctx.Env(CrashAfterVariable) is { Length: > 0 } point
            ? step => { if (step == point) Process.GetCurrentProcess().Kill(); }
            : null;
        var options = new ArtifactOptions(Actor(ctx.Env), Path.Combine(settings.CacheDir, "artifacts"), RecordCache.StoreId(ctx.Stores.Identity), settings.AssumeSingleWriter, crash);
        return new ArtifactService(() => ctx.Store, options, ctx.Reporter, ctx.Clock, ctx.FileSystem);
    }

    /// <summary>Who writes, as records keep it: s3pod's version, the host and the CI run when there is one.</summary>
    internal static string Actor(Func<string, string?> env)
    {
        var actor = $"s3pod {CliApp.Version} on {Environment.MachineName}";
        if (env("GITHUB_RUN_ID") is { Length: > 0 } run) actor += $" (GitHub {env("GITHUB_REPOSITORY")} run {run})";
        else if (env("BUILD_BUILDID") is { Length: > 0 } build) actor += $" (Azure Pipelines build {build})";
        return actor;
    }
}
