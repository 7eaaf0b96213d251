using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Amazon.S3;
using Amazon.S3.Model;

namespace S3Pod.FaultTests.Harness;

/// <summary>
/// A uniquely named bucket of one test, read directly on the server (never through the proxy),
/// deleted afterwards. s3rver rejects the .NET SDK's bucket-level requests (it signs "/bucket",
/// the SDK sends "/bucket/"), so there those go through the AWS CLI v2, as s3pod's own fix does.
/// </summary>
internal sealed class TestBucket : IAsyncDisposable
{
    private readonly AmazonS3Client _client;

    public string Name { get; }
    public ServerInfo Server { get; }

    private TestBucket(ServerInfo server, AmazonS3Client client, string name)
    {
        Server = server;
        _client = client;
        Name = name;
    }

    public static async Task<TestBucket> CreateAsync(ServerInfo server)
    {
        var client = server.NewClient();
        var name = $"s3pod-ft-{Guid.NewGuid():N}"[..36];
        var bucket = new TestBucket(server, client, name);
        if (bucket.BucketCallsViaCli) bucket.Cli("s3api", "create-bucket", "--bucket", name);
        else await client.PutBucketAsync(new PutBucketRequest { BucketName = name });
        return bucket;
    }

    public async Task<byte[]?> GetAsync(string key)
    {
        try
        {
            using var r = await _client.GetObjectAsync(Name, key);
            using var ms = new MemoryStream();
            await r.ResponseStream.CopyToAsync(ms);
            return ms.ToArray();
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>The object's user metadata (names without x-amz-meta-), or null when it does not exist.</summary>
    public async Task<Dictionary<string, string>?> MetadataAsync(string key)
    {
        try
        {
            var r = await _client.GetObjectMetadataAsync(Name, key);
            return r.Metadata.Keys.ToDictionary(k => k.StartsWith("x-amz-meta-", StringComparison.OrdinalIgnoreCase) ? k[11..].ToLowerInvariant() : k.ToLowerInvariant(), k => r.Metadata[k]);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task<List<string>> KeysAsync(string prefix = "")
    {
        if (BucketCallsViaCli)
        {
            using var doc = JsonDocument.Parse(Cli("s3api", "list-objects-v2", "--bucket", Name, "--prefix", prefix, "--output", "json") is { Length: > 0 } o ? o : "{}");
            return doc.RootElement.TryGetProperty("Contents", out var c) ? c.EnumerateArray().Select(e => e.GetProperty("Key").GetString()!).ToList() : [];
        }
        var keys = new List<string>();
        string? token = null;
        do
        {
            var page = await _client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Name, Prefix = prefix, ContinuationToken = token });
            keys.AddRange((page.S3Objects ?? []).Select(o => o.Key));
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        } while (token is not null);
        return keys;
    }

    /// <summary>Multipart uploads started and neither completed nor aborted (they cost storage until reaped).</summary>
    public async Task<List<string>> IncompleteUploadsAsync()
    {
        if (BucketCallsViaCli)
        {
            using var doc = JsonDocument.Parse(Cli("s3api", "list-multipart-uploads", "--bucket", Name, "--output", "json") is { Length: > 0 } o ? o : "{}");
            return doc.RootElement.TryGetProperty("Uploads", out var u) ? u.EnumerateArray().Select(e => $"{e.GetProperty("Key").GetString()} ({e.GetProperty("UploadId").GetString()})").ToList() : [];
        }
        var r = await _client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = Name });
        return (r.MultipartUploads ?? []).Select(u => $"{u.Key} ({u.UploadId})").ToList();
    }

    private bool BucketCallsViaCli => Server.Flavor == "s3rver";

    /// <summary>Debian's AWS CLI v2 by full path (an older v1 may come first on PATH); its stdout; throws when it fails.</summary>
    private string Cli(params string[] args)
    {
        var psi = new ProcessStartInfo("/usr/bin/aws") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--endpoint-url", Server.Endpoint }.Concat(args)) psi.ArgumentList.Add(a);
        psi.Environment["AWS_ACCESS_KEY_ID"] = Server.KeyId;
        psi.Environment["AWS_SECRET_ACCESS_KEY"] = Server.Secret;
        psi.Environment["AWS_DEFAULT_REGION"] = Server.Region;
        psi.Environment["AWS_CONFIG_FILE"] = "/dev/null";
        psi.Environment["AWS_PAGER"] = "";
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return p.ExitCode == 0 ? output : throw new InvalidOperationException($"aws {string.Join(' ', args)}: {err.Result}");
    }

    public async ValueTask DisposeAsync()
    {
        if (BucketCallsViaCli)
        {
            try { Cli("s3", "rb", $"s3://{Name}", "--force"); } catch (InvalidOperationException) { /* best effort */ }
            _client.Dispose();
            return;
        }
        try
        {
            var uploads = await _client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = Name });
            foreach (var u in uploads.MultipartUploads ?? [])
                await _client.AbortMultipartUploadAsync(Name, u.Key, u.UploadId);
            foreach (var key in await KeysAsync())
                await _client.DeleteObjectAsync(Name, key);
            await _client.DeleteBucketAsync(Name);
        }
        catch (Exception)
        {
            // Best effort: a shared dev server keeps an odd bucket, which harms no other test.
        }
        _client.Dispose();
    }
}
