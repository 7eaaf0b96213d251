using Amazon.Runtime;
using Amazon.S3;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace S3Pod.FaultTests.Harness;

/// <summary>A real S3 server the test scripts started (tests/servers/*.sh), as seen by the tests.</summary>
/// <param name="Enforces">What the server's start script says it enforces (create-only,
/// compare-and-swap): the suite's expectations follow it, not the server's name.</param>
internal sealed record ServerInfo(string Flavor, string Endpoint, string Region, string KeyId, string Secret, IReadOnlyList<string> Enforces)
{
    /// <summary>If-None-Match on single PUTs (Ceph RGW does; s3rver, like Garage, ignores conditions).</summary>
    public bool EnforcesCreateOnly => Enforces.Contains("create-only");

    /// <summary>If-Match (compare-and-swap on PUT; a ranged GET pinned to an ETag).</summary>
    public bool EnforcesIfMatch => Enforces.Contains("compare-and-swap");

    public static IReadOnlyList<string> ParseEnforces(string? list) =>
        (list ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The tests' own client: checks what is really in the bucket, never through the proxy.</summary>
    public AmazonS3Client NewClient() => new(new BasicAWSCredentials(KeyId, Secret), new AmazonS3Config
    {
        ServiceURL = Endpoint,
        ForcePathStyle = true,
        AuthenticationRegion = Region,
        RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        Timeout = TimeSpan.FromSeconds(30),
    });
}

/// <summary>
/// What the suite needs from its environment, each absent one a skip with its reason: the
/// published binary (S3POD_TEST_BINARY), the main server (S3POD_TEST_S3_*: Ceph RGW from
/// /work/devenv/ceph-rgw.env or tests/run-all.sh), optionally s3rver (S3POD_FAULT_S3RVER_ENDPOINT)
/// and dockerd (S3POD_TEST_DOCKER=1 with DOCKER_HOST).
/// </summary>
internal static class Servers
{
    public static string? BinaryPath => Environment.GetEnvironmentVariable("S3POD_TEST_BINARY");

    public static ServerInfo? Main { get; } = Environment.GetEnvironmentVariable("S3POD_TEST_S3_ENDPOINT") is { Length: > 0 } endpoint
        ? new ServerInfo(
            Environment.GetEnvironmentVariable("S3POD_TEST_S3_FLAVOR") ?? "unknown",
            endpoint,
            Environment.GetEnvironmentVariable("S3POD_TEST_S3_REGION") ?? "us-east-1",
            Environment.GetEnvironmentVariable("S3POD_TEST_S3_KEY_ID") ?? "",
            Environment.GetEnvironmentVariable("S3POD_TEST_S3_SECRET") ?? "",
            ServerInfo.ParseEnforces(Environment.GetEnvironmentVariable("S3POD_TEST_S3_ENFORCES")))
        : null;

    /// <summary>s3rver accepts any credentials named S3RVER and enforces no condition (tests/servers/s3rver.sh
    /// exports an empty S3POD_TEST_S3_ENFORCES; S3POD_FAULT_S3RVER_ENFORCES overrides it here).</summary>
    public static ServerInfo? S3rver { get; } = Environment.GetEnvironmentVariable("S3POD_FAULT_S3RVER_ENDPOINT") is { Length: > 0 } endpoint
        ? new ServerInfo("s3rver", endpoint, "us-east-1", "S3RVER", "S3RVER", ServerInfo.ParseEnforces(Environment.GetEnvironmentVariable("S3POD_FAULT_S3RVER_ENFORCES")))
        : null;

    public static bool DockerAvailable =>
        Environment.GetEnvironmentVariable("S3POD_TEST_DOCKER") == "1" && !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOCKER_HOST"));

    public static ServerInfo RequireMain()
    {
        RequireBinary();
        Skip.If(Main is null, "no S3 server: S3POD_TEST_S3_ENDPOINT is not set (source /work/devenv/ceph-rgw.env; tests/run-all.sh starts Ceph RGW)");
        return Main!;
    }

    public static void RequireBinary() =>
        Skip.If(string.IsNullOrEmpty(BinaryPath) || !File.Exists(BinaryPath), "no native binary: S3POD_TEST_BINARY is not set (run ./publish-aot.sh; tests/run-all.sh sets it)");

    public static ServerInfo RequireS3rver()
    {
        RequireBinary();
        Skip.If(S3rver is null, "no s3rver: S3POD_FAULT_S3RVER_ENDPOINT is not set (tests/run-all.sh sets it from s3rver's env)");
        return S3rver!;
    }

    public static void RequireDocker() =>
        Skip.If(!DockerAvailable, "no dockerd: S3POD_TEST_DOCKER=1 and DOCKER_HOST are not set (source /work/devenv/docker.env; tests/run-all.sh starts one)");

    public static ServerInfo Get(string name) => name switch
    {
        "ceph" => RequireMain(),
        "s3rver" => RequireS3rver(),
        _ => throw new ArgumentException(name),
    };
}
