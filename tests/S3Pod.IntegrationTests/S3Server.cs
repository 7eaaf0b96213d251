using System.Diagnostics;
using S3Pod.Storage;

namespace S3Pod.IntegrationTests;

/// <summary>
/// The real S3 server the test scripts started (tests/servers/*.sh export S3POD_TEST_S3_*). Without
/// it, S3 tests are skipped with that reason: a missing server must never look like a pass.
/// </summary>
internal static class S3Server
{
    public static string? Endpoint => Environment.GetEnvironmentVariable("S3POD_TEST_S3_ENDPOINT");
    public static string Region => Environment.GetEnvironmentVariable("S3POD_TEST_S3_REGION") ?? "us-east-1";
    public static string KeyId => Environment.GetEnvironmentVariable("S3POD_TEST_S3_KEY_ID") ?? "";
    public static string Secret => Environment.GetEnvironmentVariable("S3POD_TEST_S3_SECRET") ?? "";
    /// <summary>ceph or s3rver: for skips that concern one server's known bugs only.</summary>
    public static string Flavor => Environment.GetEnvironmentVariable("S3POD_TEST_S3_FLAVOR") ?? "unknown";

    /// <summary>What the server's start script says it enforces (S3POD_TEST_S3_ENFORCES, comma-separated:
    /// create-only, compare-and-swap, multipart-conditional, conditional-delete).</summary>
    public static bool Enforces(string capability) =>
        (Environment.GetEnvironmentVariable("S3POD_TEST_S3_ENFORCES") ?? "").Split(',', StringSplitOptions.TrimEntries).Contains(capability);

    public static bool EnforcesConditionalWrites => Enforces("create-only") && Enforces("compare-and-swap");

    public static void SkipIfAbsent() =>
        Skip.If(string.IsNullOrEmpty(Endpoint), "no S3 server: S3POD_TEST_S3_ENDPOINT is not set (tests/run-all.sh starts one)");

    public static string NewBucketName() => $"s3pod-it-{Guid.NewGuid():N}"[..40];

    public static async Task<S3ObjectStore> NewStoreAsync(string? bucket = null, string prefix = "it", string? endpoint = null, StaticCredentials? credentials = null)
    {
        var store = new S3ObjectStore(new S3Target(endpoint ?? Endpoint, Region, bucket ?? NewBucketName(), prefix, credentials ?? new StaticCredentials(KeyId, Secret)));
        await store.EnsureBucketAsync(default);
        return store;
    }

    /// <summary>Runs an interop peer (AWS CLI v2, rclone) configured for the same server.</summary>
    public static (int Code, byte[] Stdout, string Stderr) Peer(string file, IEnumerable<string> args, byte[]? stdin = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin is not null };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["AWS_ACCESS_KEY_ID"] = KeyId;
        psi.Environment["AWS_SECRET_ACCESS_KEY"] = Secret;
        psi.Environment["AWS_DEFAULT_REGION"] = Region;
        psi.Environment["AWS_REQUEST_CHECKSUM_CALCULATION"] = "when_required";
        psi.Environment["AWS_RESPONSE_CHECKSUM_VALIDATION"] = "when_required";
        psi.Environment["AWS_PAGER"] = "";
        psi.Environment["AWS_CONFIG_FILE"] = AwsConfig.Value;
        psi.Environment.Remove("AWS_CA_BUNDLE"); // rclone 1.60 fails with a CA bundle set
        psi.Environment["RCLONE_CONFIG"] = "/dev/null";
        psi.Environment["RCLONE_CONFIG_T_TYPE"] = "s3";
        psi.Environment["RCLONE_CONFIG_T_PROVIDER"] = "Other";
        psi.Environment["RCLONE_CONFIG_T_ENDPOINT"] = Endpoint;
        psi.Environment["RCLONE_CONFIG_T_ACCESS_KEY_ID"] = KeyId;
        psi.Environment["RCLONE_CONFIG_T_SECRET_ACCESS_KEY"] = Secret;
        psi.Environment["RCLONE_CONFIG_T_FORCE_PATH_STYLE"] = "true";
        psi.Environment["RCLONE_CONFIG_T_REGION"] = Region;
        using var p = Process.Start(psi)!;
        var errTask = p.StandardError.ReadToEndAsync();
        var ms = new MemoryStream();
        var outTask = p.StandardOutput.BaseStream.CopyToAsync(ms);
        if (stdin is not null)
        {
            p.StandardInput.BaseStream.Write(stdin);
            p.StandardInput.Close();
        }
        outTask.Wait();
        p.WaitForExit();
        return (p.ExitCode, ms.ToArray(), errTask.Result);
    }

    /// <summary>Debian's AWS CLI v2 by full path: an older pip-installed v1 may come first on PATH.</summary>
    public const string Aws = "/usr/bin/aws";

    private static readonly Lazy<string> AwsConfig = new(() =>
    {
        var path = Path.Combine(Path.GetTempPath(), $"s3pod-it-aws-{Environment.ProcessId}.config");
        File.WriteAllText(path, "[default]\ns3 =\n    addressing_style = path\n");
        return path;
    });
}
