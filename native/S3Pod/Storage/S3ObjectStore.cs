using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Amazon.Runtime;
using Amazon.Runtime.Internal;
using Amazon.S3;
using Amazon.S3.Model;
using Amazon.SecurityToken;

namespace S3Pod.Storage;

/// <summary>Everything needed to reach one bucket. Secrets stay in <see cref="Credentials"/> and are never formatted.</summary>
internal sealed record S3Target(string? Endpoint, string Region, string Bucket, string Prefix, StaticCredentials? Credentials);

/// <summary>An access key pair that s3pod resolved itself (env, key files); null means the AWS default chain.</summary>
internal sealed record StaticCredentials(string KeyId, string Secret)
{
    public override string ToString() => $"StaticCredentials({KeyId[..Math.Min(4, KeyId.Length)]}…)";
}

/// <summary>
/// The S3 implementation of <see cref="IObjectStore"/>, and the only file that references the AWS SDK.
/// Configured for the lowest common denominator of S3 servers (AWS, MinIO, Garage, R2, Ceph RGW):
/// path-style addressing, SigV4, checksums only when an operation requires them, and no
/// aws-chunked bodies (Garage and RGW reject the trailer; s3rver stores the framing as data).
/// </summary>
internal sealed class S3ObjectStore : IObjectStore
{
    // Objects up to this size go in one PUT / one GET; above it, parts and ranges run in parallel.
    internal const int SinglePutLimit = 16 << 20;
    internal const int PartSize = 8 << 20;
    internal const int Concurrency = 4;
    private const int SingleGetLimit = 16 << 20;

    private readonly AmazonS3Client _client;
    private readonly S3Target _target;
    private readonly string _prefix;
    private readonly bool _https;
    // RGW 16 compares If-Match against the unquoted ETag; AWS wants it as HEAD returns it (quoted).
    // Learned on first use: null until a compare-and-swap has told us which form the server accepts.
    private bool? _unquotedIfMatch;

    public S3ObjectStore(S3Target target)
    {
        _target = target;
        _prefix = NormalizePrefix(target.Prefix);
        _https = string.IsNullOrEmpty(target.Endpoint) || target.Endpoint.StartsWith("https://", StringComparison.OrdinalIgnoreCase);
        var config = new AmazonS3Config
        {
            ForcePathStyle = true,
            AuthenticationRegion = target.Region,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            // The SDK retries 5xx, throttling (SlowDown), resets and timeouts with jittered backoff.
            RetryMode = RequestRetryMode.Standard,
            MaxErrorRetry = 5,
            Timeout = TimeSpan.FromMinutes(5),
        };
        if (!string.IsNullOrEmpty(target.Endpoint)) config.ServiceURL = target.Endpoint;
        else config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(target.Region);

        BucketPathFix.EnsureRegistered();
        RegisterSecurityTokenService();
        _client = target.Credentials is { } c
            ? new AmazonS3Client(new BasicAWSCredentials(c.KeyId, c.Secret), config)
            : new AmazonS3Client(config);
    }

    public string Location => $"s3://{_target.Bucket}/{_prefix}";

    private static int _stsRegistered;

    /// <summary>
    /// The AWS default chain's web identity provider (GitHub OIDC, EKS service accounts) calls STS
    /// through a client the SDK normally loads by reflection, which native AOT cannot do: hand it one.
    /// AssumeRoleWithWebIdentity is an unsigned call, so the client needs no credentials of its own.
    /// </summary>
    private static void RegisterSecurityTokenService()
    {
        if (Interlocked.Exchange(ref _stsRegistered, 1) != 0) return;
        Amazon.RuntimeDependencies.GlobalRuntimeDependencyRegistry.Instance.RegisterSecurityTokenServiceClient(context =>
        {
            var region = context.SecurityTokenServiceClientContextData?.Region ?? Amazon.RegionEndpoint.USEast1;
            return new AmazonSecurityTokenServiceClient(new AnonymousAWSCredentials(), new AmazonSecurityTokenServiceConfig { RegionEndpoint = region });
        });
    }

    internal static string NormalizePrefix(string prefix)
    {
        var p = prefix.Trim('/');
        return p.Length == 0 ? "" : p + "/";
    }

    private string FullKey(string key) => _prefix + key;
    private string Describe(string key) => $"s3://{_target.Bucket}/{FullKey(key)}";

    public async Task<ObjectInfo?> HeadAsync(string key, CancellationToken ct)
    {
        try
        {
            var r = await _client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _target.Bucket, Key = FullKey(key) }, ct);
            return ToInfo(key, r.ContentLength, r.LastModified, r.ETag, r.Metadata);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode != "NoSuchBucket")
        {
            // A HEAD has no body, so a missing bucket also looks like a plain 404: tell them apart.
            if ((await ProbeBucketAsync(ct)).Missing) throw MissingBucket();
            return null;
        }
        catch (AmazonS3Exception e) when ((e.StatusCode == HttpStatusCode.Forbidden && string.IsNullOrEmpty(e.ErrorCode)) || e.ErrorCode == "Forbidden")
        {
            // Same for a 403: a listing says whether the credentials or the permissions are wrong.
            throw (await ProbeBucketAsync(ct)).Problem ?? Translate(e, key);
        }
        catch (Exception e) when (e is not S3PodException && e is not OperationCanceledException)
        {
            throw Translate(e, key);
        }
    }

    public async Task<ObjectInfo> PutAsync(string key, Stream content, PutOptions options, CancellationToken ct)
    {
        try
        {
            if (options.Length is { } known && known > SinglePutLimit)
                return await PutMultipartAsync(key, content, null, options, ct);

            // Small objects go in one PUT: cheaper, and it keeps create-only writes enforced on servers
            // (RGW 16) that ignore conditions on CompleteMultipartUpload. A stream of unknown length
            // is probed with one part's worth: if it fills the part, that buffer becomes part 1.
            var buffer = GC.AllocateUninitializedArray<byte>(options.Length is { } n ? (int)n : PartSize);
            int filled = await ReadFullAsync(content, buffer, ct);
            if (options.Length is not null || filled < buffer.Length)
            {
                options.Progress?.Invoke(filled);
                return await PutSingleAsync(key, buffer, filled, options, ct);
            }
            return await PutMultipartAsync(key, content, buffer, options, ct);
        }
        catch (Exception e) when (e is not S3PodException && e is not OperationCanceledException)
        {
            throw Translate(e, key);
        }
    }

    private async Task<ObjectInfo> PutSingleAsync(string key, byte[] buffer, int count, PutOptions options, CancellationToken ct)
    {
        var request = NewPut(key, buffer, count, options);
        switch (options.Condition)
        {
            case WriteCondition.Absent:
                request.IfNoneMatch = "*";
                break;
            case WriteCondition.Match m:
                return await PutCompareAndSwapAsync(key, buffer, count, options, m.ETag, ct);
        }
        try
        {
            var r = await _client.PutObjectAsync(request, ct);
            return ToInfo(key, count, DateTime.UtcNow, r.ETag, options.Metadata);
        }
        catch (AmazonS3Exception e) when (e.StatusCode is HttpStatusCode.PreconditionFailed or HttpStatusCode.Conflict)
        {
            throw S3PodException.Conflict($"{Describe(key)} already exists");
        }
    }

    private PutObjectRequest NewPut(string key, byte[] buffer, int count, PutOptions options)
    {
        var request = new PutObjectRequest
        {
            BucketName = _target.Bucket,
            Key = FullKey(key),
            InputStream = new MemoryStream(buffer, 0, count, writable: false),
            UseChunkEncoding = false,
            // Over TLS the payload is protected anyway: skip hashing it for SigV4 (the SDK refuses over plain HTTP).
            DisablePayloadSigning = _https,
            ContentType = "application/octet-stream",
        };
        foreach (var (k, v) in options.Metadata) request.Metadata[k] = v;
        return request;
    }

    private async Task<ObjectInfo> PutCompareAndSwapAsync(string key, byte[] buffer, int count, PutOptions options, string expectedETag, CancellationToken ct)
    {
        var bare = expectedETag.Trim('"');
        foreach (var unquoted in _unquotedIfMatch is { } known ? [known] : new[] { false, true })
        {
            var request = NewPut(key, buffer, count, options);
            request.IfMatch = unquoted ? bare : $"\"{bare}\"";
            try
            {
                var r = await _client.PutObjectAsync(request, ct);
                _unquotedIfMatch = unquoted;
                return ToInfo(key, count, DateTime.UtcNow, r.ETag, options.Metadata);
            }
            catch (AmazonS3Exception e) when (e.StatusCode is HttpStatusCode.PreconditionFailed or HttpStatusCode.NotFound or HttpStatusCode.Conflict)
            {
                // A 412 may be RGW refusing the quoted form of the right ETag: retry unquoted only
                // when the object really still carries the ETag we were given.
                var now = await HeadAsync(key, ct);
                if (_unquotedIfMatch is null && !unquoted && now?.ETag?.Trim('"') == bare) continue;
                throw S3PodException.Conflict($"{Describe(key)} changed since it was read (compare-and-swap failed)");
            }
        }
        throw S3PodException.Conflict($"{Describe(key)} changed since it was read (compare-and-swap failed)");
    }

    private async Task<ObjectInfo> PutMultipartAsync(string key, Stream content, byte[]? firstPart, PutOptions options, CancellationToken ct)
    {
        var create = new InitiateMultipartUploadRequest { BucketName = _target.Bucket, Key = FullKey(key), ContentType = "application/octet-stream" };
        foreach (var (k, v) in options.Metadata) create.Metadata[k] = v;
        var upload = await _client.InitiateMultipartUploadAsync(create, ct);
        string? uploadId = upload.UploadId;
        var etags = new List<PartETag>();
        var inFlight = new List<Task<PartETag>>();
        // Memory stays at (Concurrency + 1) parts whatever the object size; the probe buffer of a
        // stream is the first of them.
        var buffers = new BufferPool(PartSize, Concurrency + 1, firstPart);
        long total = 0;
        try
        {
            int partNumber = 1;
            while (true)
            {
                byte[] buf;
                int n;
                if (firstPart is not null)
                {
                    (buf, n, firstPart) = (firstPart, firstPart.Length, null);
                }
                else
                {
                    buf = buffers.Rent();
                    n = await ReadFullAsync(content, buf, ct);
                }
                if (n == 0) { buffers.Return(buf); break; }
                if (inFlight.Count >= Concurrency)
                {
                    var done = await Task.WhenAny(inFlight);
                    inFlight.Remove(done);
                    etags.Add(await done);
                }
                if (partNumber > 10_000) throw S3PodException.Operational($"{Describe(key)}: object too large for {PartSize >> 20} MiB parts");
                inFlight.Add(UploadPartAsync(uploadId, key, partNumber++, buf, n, buffers, ct));
                total += n;
                options.Progress?.Invoke(total);
                if (n < PartSize) break;
            }
            foreach (var t in inFlight) etags.Add(await t);
            inFlight.Clear();
            etags.Sort((a, b) => (a.PartNumber ?? 0).CompareTo(b.PartNumber ?? 0));

            var complete = new CompleteMultipartUploadRequest { BucketName = _target.Bucket, Key = FullKey(key), UploadId = uploadId, PartETags = etags };
            if (options.Condition is WriteCondition.Absent) complete.IfNoneMatch = "*";
            if (options.Condition is WriteCondition.Match m) complete.IfMatch = m.ETag;
            try
            {
                await _client.CompleteMultipartUploadAsync(complete, ct);
            }
            catch (AmazonS3Exception e) when (e.StatusCode is HttpStatusCode.PreconditionFailed or HttpStatusCode.Conflict)
            {
                throw S3PodException.Conflict($"{Describe(key)} already exists");
            }
            uploadId = null;
            // RGW returns an empty ETag from CompleteMultipartUpload: HEAD for the real one.
            return await HeadAsync(key, ct) ?? ToInfo(key, total, DateTime.UtcNow, null, options.Metadata);
        }
        finally
        {
            if (uploadId is not null)
            {
                // Never leave a half upload behind (it costs storage until a lifecycle rule reaps it).
                try { await Task.WhenAll(inFlight); } catch { /* the first error is the one reported */ }
                try
                {
                    using var abortTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                    await _client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _target.Bucket, Key = FullKey(key), UploadId = uploadId }, abortTimeout.Token);
                }
                catch { /* best effort; the original error matters more */ }
            }
        }
    }

    private async Task<PartETag> UploadPartAsync(string uploadId, string key, int partNumber, byte[] buffer, int count, BufferPool pool, CancellationToken ct)
    {
        try
        {
            var r = await _client.UploadPartAsync(new UploadPartRequest
            {
                BucketName = _target.Bucket,
                Key = FullKey(key),
                UploadId = uploadId,
                PartNumber = partNumber,
                InputStream = new MemoryStream(buffer, 0, count, writable: false),
                PartSize = count,
                UseChunkEncoding = false,
                DisablePayloadSigning = _https,
            }, ct);
            return new PartETag(partNumber, r.ETag);
        }
        finally
        {
            pool.Return(buffer);
        }
    }

    public async Task<(ObjectInfo Info, Stream Content)?> OpenReadAsync(string key, Action<long>? progress, CancellationToken ct)
    {
        var info = await HeadAsync(key, ct);
        if (info is null) return null;
        Stream content = info.Size <= SingleGetLimit
            ? await GetRangeStreamAsync(key, info.ETag, null, ct)
            : new PrefetchingRangeStream(info.Size, PartSize, Concurrency,
                (offset, count, dest, token) => ReadRangeAsync(key, info.ETag, offset, count, dest, token));
        return (info, progress is null ? content : new ProgressStream(content, progress));
    }

    private async Task<Stream> GetRangeStreamAsync(string key, string? etag, ByteRange? range, CancellationToken ct)
    {
        try
        {
            var r = await _client.GetObjectAsync(new GetObjectRequest
            {
                BucketName = _target.Bucket,
                Key = FullKey(key),
                // Pin every request to the version we looked at, so ranges never mix two writes.
                EtagToMatch = etag,
                ByteRange = range,
            }, ct);
            return new OwningStream(r.ResponseStream, r);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.PreconditionFailed)
        {
            throw S3PodException.Conflict($"{Describe(key)} was replaced while it was being read; try again");
        }
        catch (Exception e) when (e is not S3PodException && e is not OperationCanceledException)
        {
            throw Translate(e, key);
        }
    }

    private async Task ReadRangeAsync(string key, string? etag, long offset, int count, Memory<byte> dest, CancellationToken ct)
    {
        await using var s = await GetRangeStreamAsync(key, etag, new ByteRange(offset, offset + count - 1), ct);
        int got = await ReadFullAsync(s, dest[..count], ct);
        if (got != count) throw S3PodException.Integrity($"{Describe(key)}: short read at offset {offset} ({got} of {count} bytes)");
    }

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct)
    {
        string? token = null;
        do
        {
            ListObjectsV2Response page;
            try
            {
                page = await _client.ListObjectsV2Async(new ListObjectsV2Request
                {
                    BucketName = _target.Bucket,
                    Prefix = FullKey(prefix),
                    ContinuationToken = token,
                }, ct);
            }
            catch (Exception e) when (e is not S3PodException && e is not OperationCanceledException)
            {
                throw Translate(e, prefix);
            }
            foreach (var o in page.S3Objects ?? [])
            {
                if (!o.Key.StartsWith(_prefix, StringComparison.Ordinal)) continue;
                yield return new ObjectInfo(o.Key[_prefix.Length..], o.Size ?? 0, ToOffset(o.LastModified), o.ETag, ObjectInfo.NoMetadata);
            }
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        } while (token is not null);
    }

    public async Task<bool> DeleteAsync(string key, CancellationToken ct)
    {
        // S3 answers 204 whether or not the key existed: HEAD first so `delete` can say which.
        if (await HeadAsync(key, ct) is null) return false;
        try
        {
            await _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _target.Bucket, Key = FullKey(key) }, ct);
            return true;
        }
        catch (Exception e) when (e is not S3PodException && e is not OperationCanceledException)
        {
            throw Translate(e, key);
        }
    }

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
            await _client.PutBucketAsync(new PutBucketRequest { BucketName = _target.Bucket }, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
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
            await _client.HeadBucketAsync(new HeadBucketRequest { BucketName = _target.Bucket }, ct);
            return BucketProbe.Usable;
        }
        catch (AmazonS3Exception) { }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new BucketProbe(false, Translate(e, ""));
        }
        try
        {
            await _client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _target.Bucket, MaxKeys = 1 }, ct);
            return BucketProbe.Usable;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return new BucketProbe(true, MissingBucket());
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new BucketProbe(false, Translate(e, ""));
        }
    }

    /// <summary>What the bucket probe found: usable (no problem), missing, or another problem to report.</summary>
    private readonly record struct BucketProbe(bool Missing, S3PodException? Problem)
    {
        public static BucketProbe Usable => new(false, null);
    }

    public async Task<ConditionalWriteSupport> ProbeConditionalWritesAsync(string probeKey, CancellationToken ct)
    {
        var data = new PutOptions();
        await PutAsync(probeKey, new MemoryStream([1]), data, ct);
        bool createOnly, cas = false;
        string detail;
        try
        {
            try
            {
                await PutAsync(probeKey, new MemoryStream([2]), data with { Condition = WriteCondition.IfAbsent }, ct);
                createOnly = false;
            }
            catch (S3PodException e) when (e.ExitCode == ExitCodes.Conflict)
            {
                createOnly = true;
            }
            var current = await HeadAsync(probeKey, ct);
            if (current?.ETag is { } etag)
            {
                try
                {
                    await PutAsync(probeKey, new MemoryStream([3]), data with { Condition = WriteCondition.IfMatch("0123456789abcdef0123456789abcdef") }, ct);
                }
                catch (S3PodException e) when (e.ExitCode == ExitCodes.Conflict)
                {
                    // The wrong ETag was refused; now the right one must be accepted.
                    try
                    {
                        await PutAsync(probeKey, new MemoryStream([4]), data with { Condition = WriteCondition.IfMatch(etag) }, ct);
                        cas = true;
                    }
                    catch (S3PodException e2) when (e2.ExitCode == ExitCodes.Conflict) { }
                }
            }
            detail = (createOnly, cas) switch
            {
                (true, true) => _unquotedIfMatch == true ? "create-only and compare-and-swap enforced (If-Match needs the unquoted ETag: Ceph RGW behaviour)" : "create-only and compare-and-swap enforced",
                (true, false) => "create-only enforced; compare-and-swap not enforced",
                (false, true) => "compare-and-swap enforced; create-only (If-None-Match) ignored",
                _ => "conditional writes are ignored by this server (last writer wins)",
            };
        }
        finally
        {
            try { await _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _target.Bucket, Key = FullKey(probeKey) }, CancellationToken.None); }
            catch { /* best effort */ }
        }
        return new ConditionalWriteSupport(createOnly, cas, detail);
    }

    private S3PodException MissingBucket() =>
        S3PodException.Operational($"bucket '{_target.Bucket}' does not exist at {EndpointName} (create it, or run `s3pod init --create-bucket`)");

    private string EndpointName => string.IsNullOrEmpty(_target.Endpoint) ? $"AWS S3 ({_target.Region})" : _target.Endpoint!;

    /// <summary>Turns SDK and network failures into one-line messages that name the cause (never a secret).</summary>
    private S3PodException Translate(Exception e, string key)
    {
        var where = key.Length == 0 ? $"s3://{_target.Bucket}" : Describe(key);
        switch (e)
        {
            case AmazonS3Exception s3:
                var code = s3.ErrorCode ?? "";
                if (code is "InvalidAccessKeyId" or "SignatureDoesNotMatch" or "InvalidToken" or "ExpiredToken")
                    return S3PodException.Operational($"credentials rejected by {EndpointName} ({code}); check the key id and secret (`s3pod doctor`)", e);
                if (code == "NoSuchBucket") return MissingBucket();
                if (s3.StatusCode == HttpStatusCode.Forbidden)
                    return S3PodException.Operational($"access denied to {where} ({(code.Length > 0 ? code : "403")}); check the credentials and the bucket policy", e);
                return S3PodException.Operational($"{where}: {(code.Length > 0 ? code : ((int)s3.StatusCode).ToString())}{(string.IsNullOrEmpty(s3.Message) ? "" : ": " + OneLine(s3.Message))}", e);
            case AmazonClientException client when client.InnerException is { } inner && inner is not AmazonClientException:
                return Translate(inner, key);
            case AmazonClientException client when client.Message.Contains("credentials", StringComparison.OrdinalIgnoreCase):
                return S3PodException.Operational("no S3 credentials found: set S3POD_S3_KEY_ID/S3POD_S3_SECRET, pass --key-file/--secret-file, or configure the AWS chain (AWS_* env, profile, web identity, instance role)", e);
            case HttpRequestException or SocketException or IOException or TaskCanceledException:
                return S3PodException.Operational($"cannot reach {EndpointName}: {OneLine(Innermost(e).Message)}", e);
            default:
                return S3PodException.Operational($"{where}: {OneLine(e.Message)}", e);
        }
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();

    private static ObjectInfo ToInfo(string key, long size, DateTime? lastModified, string? etag, MetadataCollection metadata)
    {
        var dict = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var k in metadata.Keys)
        {
            // The SDK hands user metadata back with its x-amz-meta- prefix.
            var name = k.StartsWith("x-amz-meta-", StringComparison.OrdinalIgnoreCase) ? k["x-amz-meta-".Length..] : k;
            dict[name.ToLowerInvariant()] = metadata[k];
        }
        return new ObjectInfo(key, size, ToOffset(lastModified), etag, dict);
    }

    private static ObjectInfo ToInfo(string key, long size, DateTime? lastModified, string? etag, IReadOnlyDictionary<string, string> metadata) =>
        new(key, size, ToOffset(lastModified), etag, metadata);

    private static DateTimeOffset ToOffset(DateTime? t) =>
        t is { } v ? new DateTimeOffset(v.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(v, DateTimeKind.Utc) : v.ToUniversalTime()) : DateTimeOffset.UnixEpoch;

    internal static async Task<int> ReadFullAsync(Stream s, Memory<byte> buffer, CancellationToken ct)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = await s.ReadAsync(buffer[total..], ct);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Keeps the SDK response alive as long as its body stream is read.</summary>
    private sealed class OwningStream(Stream inner, IDisposable owner) : WrappingReadStream(inner)
    {
        protected override void Dispose(bool disposing)
        {
            base.Dispose(disposing);
            if (disposing) owner.Dispose();
        }
    }

    /// <summary>
    /// The SDK sends bucket-level requests to <c>/bucket/</c>. Servers that canonicalise the path they
    /// received (AWS, MinIO, Ceph) don't mind; s3rver signs <c>/bucket</c> and answers
    /// SignatureDoesNotMatch. Dropping the trailing slash before signing is what the AWS CLI sends
    /// and every server accepts.
    /// </summary>
    private sealed class BucketPathFix : PipelineHandler, IRuntimePipelineCustomizer
    {
        private static int _registered;

        public static void EnsureRegistered()
        {
            if (Interlocked.Exchange(ref _registered, 1) == 0) RuntimePipelineCustomizerRegistry.Instance.Register(new BucketPathFix());
        }

        public string UniqueName => "s3pod-bucket-path";

        public void Customize(Type type, RuntimePipeline pipeline)
        {
            if (type == typeof(AmazonS3Client)) pipeline.AddHandlerBefore<Signer>(new BucketPathFix());
        }

        public override Task<T> InvokeAsync<T>(IExecutionContext executionContext)
        {
            var request = executionContext.RequestContext.Request;
            if (request.OriginalRequest is ListObjectsV2Request or HeadBucketRequest or PutBucketRequest
                && request.ResourcePath is null or "" or "/"
                && request.Endpoint is { AbsolutePath.Length: > 1 } endpoint && endpoint.AbsolutePath.EndsWith('/'))
            {
                // Path-style: the bucket is in the endpoint ("http://host/bucket/") and the resource is "/";
                // the URL composer always puts a '/' between the two, so move the bucket into the resource.
                request.Endpoint = new Uri(endpoint.GetLeftPart(UriPartial.Authority));
                request.ResourcePath = endpoint.AbsolutePath.TrimEnd('/');
            }
            return base.InvokeAsync<T>(executionContext);
        }
    }
}
