using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using S3Pod.FaultTests.Harness;

namespace S3Pod.FaultTests;

/// <summary>
/// What the test servers do in the situations the fixes must handle, pinned down so a fix does not
/// rest on a guess (and so a server upgrade that changes them is noticed). Raw answers: no retries.
/// </summary>
public sealed class ServerBehaviourTests
{
    private static AmazonS3Client RawClient(ServerInfo server) => new(new BasicAWSCredentials(server.KeyId, server.Secret), new AmazonS3Config
    {
        ServiceURL = server.Endpoint,
        ForcePathStyle = true,
        AuthenticationRegion = server.Region,
        RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        MaxErrorRetry = 0,
    });

    private static async Task<(string UploadId, List<PartETag> Parts)> StartUploadAsync(AmazonS3Client client, string bucket, string key)
    {
        var create = await client.InitiateMultipartUploadAsync(bucket, key);
        var part = await client.UploadPartAsync(new UploadPartRequest
        {
            BucketName = bucket, Key = key, UploadId = create.UploadId, PartNumber = 1,
            InputStream = new MemoryStream(Tree.RandomBytes(100_000)), UseChunkEncoding = false,
        });
        return (create.UploadId, [new PartETag(1, part.ETag)]);
    }

    /// <summary>
    /// A CompleteMultipartUpload whose answer was lost is retried. Ceph RGW answers the repeat with
    /// 200 (and, unlike the first answer, with the object's ETag, unquoted); s3rver answers 500 InternalError,
    /// so there "did my complete commit?" must be answered by a HEAD, not by the retry.
    /// </summary>
    [SkippableTheory]
    [InlineData("ceph")]
    [InlineData("s3rver")]
    public async Task CompleteMultipartUpload_RepeatedAfterCommit(string serverName)
    {
        var server = Servers.Get(serverName);
        await using var bucket = await TestBucket.CreateAsync(server);
        using var client = RawClient(server);
        var (uploadId, parts) = await StartUploadAsync(client, bucket.Name, "k");
        var request = new CompleteMultipartUploadRequest { BucketName = bucket.Name, Key = "k", UploadId = uploadId, PartETags = parts };
        var first = await client.CompleteMultipartUploadAsync(request);
        var etag = (await client.GetObjectMetadataAsync(bucket.Name, "k")).ETag;
        if (server.Flavor == "ceph")
        {
            Assert.True(string.IsNullOrEmpty(first.ETag), $"RGW's first answer carried ETag {first.ETag}");
            var again = await client.CompleteMultipartUploadAsync(request);
            Assert.Equal(etag.Trim('"'), again.ETag); // unquoted, unlike HEAD's
            Assert.Empty(await bucket.IncompleteUploadsAsync());
        }
        else
        {
            // (s3rver does not implement ListMultipartUploads at all.)
            var e = await Assert.ThrowsAsync<AmazonS3Exception>(() => client.CompleteMultipartUploadAsync(request));
            Assert.Equal(HttpStatusCode.InternalServerError, e.StatusCode);
        }
    }

    /// <summary>
    /// Create-only on multipart: RGW ignores If-None-Match on CompleteMultipartUpload (the last
    /// completer wins), as does s3rver; both enforce nothing else that would stop the overwrite.
    /// </summary>
    [SkippableTheory]
    [InlineData("ceph")]
    [InlineData("s3rver")]
    public async Task CompleteMultipartUpload_IfNoneMatch_IsIgnored(string serverName)
    {
        var server = Servers.Get(serverName);
        await using var bucket = await TestBucket.CreateAsync(server);
        using var client = RawClient(server);
        await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket.Name, Key = "k", ContentBody = "first", UseChunkEncoding = false });
        var (uploadId, parts) = await StartUploadAsync(client, bucket.Name, "k");
        await client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = bucket.Name, Key = "k", UploadId = uploadId, PartETags = parts, IfNoneMatch = "*" });
        Assert.Equal(100_000, (await client.GetObjectMetadataAsync(bucket.Name, "k")).ContentLength);
    }

    /// <summary>
    /// Resuming a body "pinned to the same ETag" relies on If-Match on GET: RGW refuses a range of
    /// a replaced object with 412; s3rver ignores If-Match and serves the new bytes.
    /// </summary>
    [SkippableTheory]
    [InlineData("ceph")]
    [InlineData("s3rver")]
    public async Task RangedGet_PinnedToAReplacedETag(string serverName)
    {
        var server = Servers.Get(serverName);
        await using var bucket = await TestBucket.CreateAsync(server);
        using var client = RawClient(server);
        var old = await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket.Name, Key = "k", ContentBody = "old content", UseChunkEncoding = false });
        await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket.Name, Key = "k", ContentBody = "new content", UseChunkEncoding = false });
        var pinned = new GetObjectRequest { BucketName = bucket.Name, Key = "k", EtagToMatch = old.ETag, ByteRange = new ByteRange(4, 10) };
        if (server.EnforcesIfMatch)
        {
            var e = await Assert.ThrowsAsync<AmazonS3Exception>(() => client.GetObjectAsync(pinned));
            Assert.Equal(HttpStatusCode.PreconditionFailed, e.StatusCode);
        }
        else
        {
            using var r = await client.GetObjectAsync(pinned);
            Assert.Equal("content", await new StreamReader(r.ResponseStream).ReadToEndAsync());
        }
    }
}
