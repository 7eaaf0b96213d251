using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.Runtime.Internal;
using Amazon.S3;
using Amazon.S3.Model;
using Amazon.SecurityToken;
using S3Pod.Streams;

namespace S3Pod.Storage;

internal sealed partial class S3ObjectStore
{
    public async Task CheckAccessAsync(CancellationToken ct)
    {
        if ((await ProbeBucketAsync(ct)).Problem is { } problem) throw problem;
    }

    /// <summary>Creates the bucket when it does not exist (init --create-bucket, tests).</summary>
    public async Task EnsureBucketAsync(CancellationToken ct)
    {
        var probe = await ProbeBucketAsync(ct);
        if (probe.Problem is null) return;
        if (!probe.Missing) throw probe.Problem;
        try
        {
            await CallAsync("", w => _client.PutBucketAsync(new PutBucketRequest { BucketName = _target.Bucket }, w.Token), ct);
        }
        catch (Exception e) when (e is not S3PodException && e is not OperationCanceledException)
        {
            throw Translate(e, "");
        }
    }

    /// <summary>
    /// HEAD bucket, as the smoke test promises. A HEAD response has no body, so when it fails the
    /// cause is read from a one-key listing instead (s3rver, for one, answers HEAD with a bare 403).
    /// </summary>
    private async Task<BucketProbe> ProbeBucketAsync(CancellationToken ct)
    {
        try
        {
            await CallAsync("", w => _client.HeadBucketAsync(new HeadBucketRequest { BucketName = _target.Bucket }, w.Token), ct);
            return BucketProbe.Usable;
        }
        catch (AmazonS3Exception) { }
        catch (StorageException e)
        {
            return new BucketProbe(false, e);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new BucketProbe(false, Translate(e, ""));
        }
        try
        {
            await CallAsync("", w => _client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _target.Bucket, MaxKeys = 1 }, w.Token), ct);
            return BucketProbe.Usable;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return new BucketProbe(true, MissingBucket());
        }
        catch (StorageException e)
        {
            return new BucketProbe(false, e);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new BucketProbe(false, Translate(e, ""));
        }
    }

    /// <summary>What the bucket probe found: usable (no problem), missing, or another problem to report.</summary>
    private readonly record struct BucketProbe(bool Missing, StorageException? Problem)
    {
        public static BucketProbe Usable => new(false, null);
    }

    public async Task<StoreCapabilities> GetCapabilitiesAsync(CancellationToken ct, bool refresh = false)
    {
        if (!refresh && (_capabilities ?? _capabilityCache?.TryGet(EndpointName, _target.Bucket)) is { } known)
            return _capabilities = known;
        try
        {
            _capabilities = await ProbeCapabilitiesAsync(ct);
        }
        catch (StorageException e) when (e.Failure == StorageFailure.AccessDenied && !refresh)
        {
            // Write-only credentials (CI pushers) cannot probe: assume nothing is enforced,
            // and do not remember it, so a better-permitted run probes for real.
            return _capabilities = new StoreCapabilities(false, false, false, false, false, $"not probed ({e.Message})", _clock.GetUtcNow());
        }
        _unquotedIfMatch ??= _capabilities.UnquotedIfMatch;
        _capabilityCache?.Remember(EndpointName, _target.Bucket, _capabilities);
        return _capabilities;
    }

    /// <summary>
    /// Finds out what the server enforces, with one throw-away object: create-only and
    /// compare-and-swap on a single PUT, both on CompleteMultipartUpload (one-part uploads of one
    /// byte), and If-Match on DELETE. A server that accepts the headers and ignores them (Garage,
    /// s3rver, RGW on multipart and delete) is detected, never reported as enforcing.
    /// </summary>
    private async Task<StoreCapabilities> ProbeCapabilitiesAsync(CancellationToken ct)
    {
        var key = ProbePrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var fullKey = FullKey(key);
        async Task<bool> Refused(Func<Task> request)
        {
            try
            {
                await request();
                return false;
            }
            catch (AmazonS3Exception e) when (e.StatusCode is HttpStatusCode.PreconditionFailed or HttpStatusCode.NotFound or HttpStatusCode.Conflict)
            {
                return true;
            }
        }
        Task<PutObjectResponse> Put(byte value, Action<PutObjectRequest>? condition = null) => CallAsync(key, w =>
        {
            var request = new PutObjectRequest { BucketName = _target.Bucket, Key = fullKey, InputStream = new MemoryStream([value]), UseChunkEncoding = false, DisablePayloadSigning = _https };
            condition?.Invoke(request);
            return _client.PutObjectAsync(request, w.Token);
        }, ct);
        async Task<string?> ETag() => (await CallAsync(key, w => _client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _target.Bucket, Key = fullKey }, w.Token), ct)).ETag;

        try
        {
            await Put(1);
            bool createOnly = await Refused(() => Put(2, r => r.IfNoneMatch = "*"));
            var etag = (await ETag())?.Trim('"') ?? "";
            bool cas = false, unquoted = false;
            if (await Refused(() => Put(3, r => r.IfMatch = "\"0123456789abcdef0123456789abcdef\"")))
            {
                // The wrong ETag was refused; the right one must be accepted, quoted (AWS) or bare (RGW 16).
                if (!await Refused(() => Put(4, r => r.IfMatch = $"\"{etag}\""))) cas = true;
                else if (!await Refused(() => Put(4, r => r.IfMatch = etag))) cas = unquoted = true;
            }

            bool multipart = await Refused(async () =>
            {
                var upload = await CallAsync(key, w => _client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = _target.Bucket, Key = fullKey }, w.Token), ct);
                try
                {
                    var part = await CallAsync(key, w => _client.UploadPartAsync(new UploadPartRequest { BucketName = _target.Bucket, Key = fullKey, UploadId = upload.UploadId, PartNumber = 1, InputStream = new MemoryStream([5]), PartSize = 1, UseChunkEncoding = false, DisablePayloadSigning = _https }, w.Token), ct);
                    await CallAsync(key, w => _client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = _target.Bucket, Key = fullKey, UploadId = upload.UploadId, PartETags = [new PartETag(1, part.ETag)], IfNoneMatch = "*" }, w.Token), ct);
                }
                catch
                {
                    try
                    {
                        using var abortTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                        await CallAsync(key, w => _client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _target.Bucket, Key = fullKey, UploadId = upload.UploadId }, w.Token), abortTimeout.Token);
                    }
                    catch { /* best effort */ }
                    throw;
                }
            });

            // A wrong If-Match must be refused; servers that ignore it (RGW 16, MinIO #21677) delete anyway.
            bool conditionalDelete = await Refused(() => CallAsync(key, w => _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _target.Bucket, Key = fullKey, IfMatch = "\"0123456789abcdef0123456789abcdef\"" }, w.Token), ct));

            return new StoreCapabilities(createOnly, cas, multipart && createOnly, conditionalDelete, unquoted,
                StoreCapabilities.Describe(createOnly, cas, multipart && createOnly, conditionalDelete, unquoted), _clock.GetUtcNow());
        }
        catch (Exception e) when (e is not S3PodException && e is not OperationCanceledException)
        {
            throw Translate(e, ProbePrefix);
        }
        finally
        {
            try
            {
                using var cleanup = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await CallAsync(key, w => _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _target.Bucket, Key = fullKey }, w.Token), cleanup.Token);
            }
            catch { /* best effort */ }
        }
    }
}
