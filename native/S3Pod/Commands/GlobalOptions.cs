using System.CommandLine;
using S3Pod.Config;

namespace S3Pod.Commands;

/// <summary>Options every command accepts (System.CommandLine "recursive" options on the root).</summary>
internal static class GlobalOptions
{
    public static readonly Option<string?> Endpoint = new("--endpoint") { Description = "S3 endpoint URL (MinIO, Garage, R2, Ceph RGW); default AWS S3. Env S3POD_ENDPOINT", Recursive = true, HelpName = "URL" };
    public static readonly Option<string?> Region = new("--region") { Description = "Region for signing (default us-east-1). Env S3POD_REGION", Recursive = true };
    public static readonly Option<string?> Bucket = new("--bucket") { Description = "Bucket; without one s3pod uses its local store. Env S3POD_BUCKET", Recursive = true };
    public static readonly Option<string?> Prefix = new("--prefix") { Description = "Joined in front of every key. Env S3POD_PREFIX", Recursive = true };
    public static readonly Option<string?> KeyFile = new("--key-file") { Description = "File holding the access key id", Recursive = true, HelpName = "FILE" };
    public static readonly Option<string?> SecretFile = new("--secret-file") { Description = "File holding the secret access key", Recursive = true, HelpName = "FILE" };
    public static readonly Option<bool> ArchSuffix = new("--arch-suffix") { Description = "Append -<os>-<arch> (Go names, e.g. linux-amd64) to keys", Recursive = true };
    public static readonly Option<string?> Store = new("--store") { Description = "Directory of the local store used when no bucket is set. Env S3POD_STORE", Recursive = true, HelpName = "DIR" };
    public static readonly Option<bool> Json = new("--json") { Description = "Print one JSON object on stdout", Recursive = true };

    public static IEnumerable<Option> All => [Endpoint, Region, Bucket, Prefix, KeyFile, SecretFile, ArchSuffix, Store, Json];

    public static CliSettings ReadCli(ParseResult p) => new(
        p.GetValue(Endpoint), p.GetValue(Region), p.GetValue(Bucket), p.GetValue(Prefix),
        p.GetValue(KeyFile), p.GetValue(SecretFile),
        p.GetResult(ArchSuffix) is { Implicit: false } ? p.GetValue(ArchSuffix) : null,
        p.GetValue(Store));
}
