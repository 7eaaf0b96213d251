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

/// <summary>Everything needed to reach one bucket. Secrets stay in <see cref="Credentials"/> and are never formatted.</summary>
internal sealed record S3Target(string? Endpoint, string Region, string Bucket, string Prefix, StaticCredentials? Credentials);

/// <summary>An access key pair that s3pod resolved itself (env, key files); null means the AWS default chain.</summary>
internal sealed record StaticCredentials(string KeyId, string Secret)
{
    public override string ToString() => $"StaticCredentials({KeyId[..Math.Min(4, KeyId.Length)]}…)";
}

/// <summary>How long to wait and how often to retry. Every network wait is bounded by one of these.</summary>
/// <param name="ConnectTimeout">Establishing a TCP/TLS connection.</param>
/// <param name="FirstByteTimeout">From a request fully sent to the first byte of its response.</param>
/// <param name="IdleTimeout">No byte moving in either direction while a body is sent or received.</param>
/// <param name="Retries">Attempts after the first for a failed request or body read.</param>
internal sealed record NetworkPolicy(TimeSpan ConnectTimeout, TimeSpan FirstByteTimeout, TimeSpan IdleTimeout, int Retries)
{
    public static readonly NetworkPolicy Default = new(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(30), 5);
}

/// <summary>
/// The S3 implementation of <see cref="IObjectStore"/>, and the only file that references the AWS SDK.
/// Configured for the lowest common denominator of S3 servers (AWS, MinIO, Garage, R2, Ceph RGW):
/// path-style addressing, SigV4, checksums only when an operation requires them, and no
/// aws-chunked bodies (Garage and RGW reject the trailer; s3rver stores the framing as data).
/// </summary>
internal sealed class S3ObjectStore : IObjectStore, IBucketAdmin
{
    // Objects up to this size go in one PUT / one GET; above it, parts and ranges run in parallel.
    internal const int SinglePutLimit = 16 << 20;
    internal const int PartSize = 8 << 20;
    internal const int Concurrency = 4;
    private const int SingleGetLimit = 16 << 20;
    private const long MaxSinglePut = 5L << 30;
    private const string ProbePrefix = ".s3pod-probe/";

    private readonly AmazonS3Client _client;
    private readonly S3Target _target;
    private readonly string _prefix;
    private readonly bool _https;
    private readonly CapabilityCache? _capabilityCache;
    private readonly TimeProvider _clock;
    private readonly RetryPolicy _retry;
    private StoreCapabilities? _capabilities;
    // RGW 16 compares If-Match against the unquoted ETag; AWS wants it as HEAD returns it (quoted).
    // Known from the capability probe, or learned on first use.
    private bool? _unquotedIfMatch;

    public S3ObjectStore(S3Target target, NetworkPolicy? network = null, CapabilityCache? capabilityCache = null, TimeProvider? clock = null)
    {
        _target = target;
        _prefix = ObjectKeys.NormalizePrefix(target.Prefix);
        _capabilityCache = capabilityCache;
        _clock = clock ?? TimeProvider.System;
        _https = string.IsNullOrEmpty(target.Endpoint) || target.Endpoint.StartsWith("https://", StringComparison.OrdinalIgnoreCase);
        var policy = network ?? NetworkPolicy.Default;
        _retry = new RetryPolicy(policy);
        var config = new AmazonS3Config
        {
            ForcePathStyle = true,
            AuthenticationRegion = target.Region,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            // s3pod retries itself (CallAsync): with a backoff floor for throttling, resuming broken
            // bodies where they stopped, and with every wait bounded by a TransferWatchdog. The SDK's
            // own per-request timeout would cut a slow but moving upload, so it is off.
            MaxErrorRetry = 0,
            ConnectTimeout = policy.ConnectTimeout,
            Timeout = System.Threading.Timeout.InfiniteTimeSpan,
        };
        config.HttpClientFactory = new WatchedHttpClientFactory(policy.ConnectTimeout);
        // s3pod's settings name the endpoint: AWS_ENDPOINT_URL or a profile's endpoint_url must not
        // quietly send the requests elsewhere.
        config.IgnoreConfiguredEndpointUrls = true;
        // With credentials given explicitly nothing in ~/.aws applies, and the SDK would still open
        // its files half a dozen times per start (measured: ~3 ms).
        if (target.Credentials is not null) Amazon.AWSConfigs.AWSProfilesLocation = Path.Combine(Path.GetTempPath(), "s3pod-no-aws-profiles");
        if (!string.IsNullOrEmpty(target.Endpoint)) config.ServiceURL = target.Endpoint;
        else config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(target.Region);

        BucketPathFix.EnsureRegistered();
        RegisterSecurityTokenService();
        _client = target.Credentials is { } c
            ? new AmazonS3Client(new BasicAWSCredentials(c.KeyId, c.Secret), config)
            : new AmazonS3Client(config);
    }

    public string Location => $"s3://{_target.Bucket}/{_prefix}";

    public string Identity => IdentityOf(_target.Endpoint, _target.Region, _target.Bucket, _prefix);

    /// <summary>The <see cref="Identity"/> of the store a target opens, without opening it.</summary>
    public static string IdentityOf(string? endpoint, string region, string bucket, string prefix) =>
        $"s3\n{endpoint ?? "aws:" + region}\n{bucket}\n{ObjectKeys.NormalizePrefix(prefix)}";

    private string EndpointName => string.IsNullOrEmpty(_target.Endpoint) ? $"AWS S3 ({_target.Region})" : _target.Endpoint!;

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

    private string FullKey(string key) => _prefix + key;
    private string Describe(string key) => $"s3://{_target.Bucket}/{FullKey(key)}";

    // ------------------------------------------------------------------ the one path every request takes

    /// <summary>
    /// Runs one SDK request with bounds and retries: each attempt gets a <see cref="TransferWatchdog"/>
    /// (idle and first-byte limits; its token goes to the SDK), and a failure that is worth another
    /// try — a network error, a timeout, 5xx, SlowDown/503/429 — is retried after the policy's
    /// backoff. Errors the caller must see (412, 404, 403, ...) pass through untouched; when the
    /// retries run out, the error is translated into one line saying what failed and how often.
    /// An attempt that hands its watchdog to a response body (<see cref="TransferWatchdog.WatchResponseBody"/>)
    /// passes its ownership to that stream.
    /// </summary>
    private async Task<T> CallAsync<T>(string key, Func<TransferWatchdog, Task<T>> attempt, CancellationToken ct,
        TransferWatchdog.Stage initial = TransferWatchdog.Stage.AwaitingResponse)
    {
        for (int tries = 1; ; tries++)
        {
            var watchdog = new TransferWatchdog(_retry.Network.IdleTimeout, _retry.Network.FirstByteTimeout, _clock, ct, initial);
            bool handedOff = false;
            try
            {
                TransferWatchdog.Current.Value = watchdog;
                var result = await attempt(watchdog);
                handedOff = result is Stream;
                return result;
            }
            catch (Exception e) when (!ct.IsCancellationRequested && e is not S3PodException && IsRetryable(e, watchdog.Expired is not null))
            {
                if (tries >= _retry.Attempts) throw Translate(e, key, tries, watchdog.Expired);
                await Task.Delay(RetryPolicy.Delay(tries, IsThrottling(e)), _clock, ct);
            }
            finally
            {
                if (!handedOff) watchdog.Dispose();
            }
        }
    }

    private static bool IsRetryable(Exception e, bool timedOut)
    {
        if (timedOut) return true;
        if (e is AmazonS3Exception s3)
        {
            int status = (int)s3.StatusCode;
            return status >= 500 || status is 408 or 429 || s3.ErrorCode is "SlowDown" or "RequestTimeout" or "InternalError" or "ServiceUnavailable" or "Throttling";
        }
        if (e is OperationCanceledException) return false; // the caller's, not a limit of ours
        for (Exception? x = e; x is not null; x = x.InnerException)
            if (x is HttpRequestException or IOException or SocketException or TimeoutException) return true;
        return false;
    }

    private static bool IsThrottling(Exception e) =>
        e is AmazonS3Exception s3 && (s3.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests || s3.ErrorCode is "SlowDown" or "Throttling");

    // ------------------------------------------------------------------ reads

    public async Task<ObjectInfo?> HeadAsync(string key, CancellationToken ct)
    {
        try
        {
            var r = await CallAsync(key, w => _client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = _target.Bucket, Key = FullKey(key) }, w.Token), ct);
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

    public async Task<ObjectReader?> OpenReadAsync(string key, ReadOptions options, CancellationToken ct)
    {
        var info = await HeadAsync(key, ct);
        if (info is null) return null;
        if (options.IfMatch is { } wanted && wanted.Trim('"') != info.ETag?.Trim('"'))
            throw new StorageException(StorageFailure.Changed, $"{Describe(key)} was replaced since it was looked up; try again");
        // Every body read resumes where it broke, pinned to the version looked at (If-Match), so a
        // retry can never splice two writes together.
        Stream content = info.Size <= SingleGetLimit
            ? new ResumableReadStream(0, info.Size, new RangeReader(this, key, info.ETag, info.Size))
            : new PrefetchingRangeStream(info.Size, PartSize, Concurrency,
                (offset, count, dest, token) => ReadRangeAsync(key, info.ETag, offset, count, dest, token));
        return new ObjectReader(info, options.Progress is null ? content : new ProgressStream(content, options.Progress));
    }

    private async Task ReadRangeAsync(string key, string? etag, long offset, int count, Memory<byte> dest, CancellationToken ct)
    {
        await using var s = new ResumableReadStream(offset, offset + count, new RangeReader(this, key, etag, offset + count));
        int got = await ReadFullAsync(s, dest[..count], ct);
        if (got != count) throw new StorageException(StorageFailure.Unreachable, $"{Describe(key)}: the range at offset {offset} ended early ({got} of {count} bytes)");
    }

    /// <summary>Opens [offset, end) of one version of an object, and decides about body failures.</summary>
    private sealed class RangeReader(S3ObjectStore store, string key, string? etag, long end) : IResumePolicy
    {
        private TransferWatchdog? _watchdog;

        public async Task<Stream> OpenAsync(long offset, CancellationToken ct)
        {
            try
            {
                return await store.CallAsync(key, async w =>
                {
                    var r = await store._client.GetObjectAsync(new GetObjectRequest
                    {
                        BucketName = store._target.Bucket,
                        Key = store.FullKey(key),
                        EtagToMatch = etag,
                        ByteRange = new ByteRange(offset, end - 1),
                    }, w.Token);
                    _watchdog = w;
                    return (Stream)new OwningStream(w.WatchResponseBody(r.ResponseStream), r);
                }, ct);
            }
            catch (AmazonS3Exception e) when (e.StatusCode is HttpStatusCode.PreconditionFailed or HttpStatusCode.NotFound)
            {
                throw new StorageException(StorageFailure.Changed,
                    $"{store.Describe(key)} was {(e.StatusCode == HttpStatusCode.NotFound ? "deleted" : "replaced")} while it was being read", e);
            }
            catch (Exception e) when (e is not S3PodException && e is not OperationCanceledException)
            {
                throw store.Translate(e, key);
            }
        }

        public async Task<bool> ShouldRetryAsync(Exception error, int attempt, CancellationToken ct)
        {
            // Opening already retried on its own; what is left to judge are failures of the body.
            if (error is S3PodException || attempt >= store._retry.Attempts) return false;
            if (!IsRetryable(error, _watchdog?.Expired is not null)) return false;
            await Task.Delay(RetryPolicy.Delay(attempt, false), store._clock, ct);
            return true;
        }

        public Exception GiveUp(Exception error, int attempts) =>
            error is S3PodException known ? known : store.Translate(error, key, attempts, _watchdog?.Expired);
    }

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct, string? startAfter = null)
    {
        string? token = null;
        do
        {
            ListObjectsV2Response page;
            try
            {
                var request = new ListObjectsV2Request
                {
                    BucketName = _target.Bucket,
                    Prefix = FullKey(prefix),
                    ContinuationToken = token,
                    StartAfter = token is null && startAfter is not null ? FullKey(startAfter) : null,
                };
                page = await CallAsync(prefix, w => _client.ListObjectsV2Async(request, w.Token), ct);
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

    // ------------------------------------------------------------------ writes

    public async Task<PutOutcome> PutAsync(string key, Stream content, PutOptions options, CancellationToken ct)
    {
        // Every write carries a writer id, so that an ambiguous outcome (the server committed but the
        // response was lost, and the retry met our own object) can be settled by looking.
        var metadata = new Dictionary<string, string>(options.Metadata) { [MetadataKeys.Writer] = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)) };
        options = options with { Metadata = metadata };
        try
        {
            if (options.Length is { } known && known > SinglePutLimit)
            {
                // A condition CompleteMultipartUpload would ignore (RGW) is enforced on a single PUT:
                // a file of known length up to S3's 5 GiB goes in one streamed PUT there.
                if (options.Condition is not WriteCondition.Unconditional && known <= MaxSinglePut && content.CanSeek
                    && await GetCapabilitiesAsync(ct) is { MultipartConditional: false } caps
                    && (options.Condition is WriteCondition.Absent ? caps.CreateOnly : caps.CompareAndSwap))
                {
                    return await PutStreamedAsync(key, content, known, options, ct);
                }
                return await PutMultipartAsync(key, content, null, options, ct);
            }

            // Small objects go in one PUT: cheaper, and conditions on a single PUT are enforced by more
            // servers (RGW 16 ignores them on CompleteMultipartUpload). A stream of unknown length is
            // probed with one part's worth: if it fills the part, that buffer becomes part 1.
            var buffer = GC.AllocateUninitializedArray<byte>(options.Length is { } n ? (int)n : PartSize);
            int filled = await ReadFullAsync(content, buffer, ct);
            if (options.Length is not null || filled < buffer.Length)
            {
                // Read to the end: a source longer or shorter than announced must fail now, not be cut
                // silently (and a checking stream sees its end before anything is sent).
                if (options.Length is not null && (filled < buffer.Length || await content.ReadAsync(new byte[1], ct) > 0))
                    throw S3PodException.Operational($"{Describe(key)}: the content is not the {options.Length} bytes announced (it changed while it was read); nothing was stored");
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

    /// <summary>One PUT streamed from a seekable source (rewound for each attempt, and by the SDK
    /// after hashing the payload for SigV4 over plain HTTP), for a conditional write of a large
    /// file where only single PUTs are conditional.</summary>
    private async Task<PutOutcome> PutStreamedAsync(string key, Stream content, long length, PutOptions options, CancellationToken ct)
    {
        Task<PutObjectResponse> Send(Action<PutObjectRequest>? condition) => CallAsync(key, w =>
        {
            content.Position = 0;
            var request = NewPut(key, w.WatchRequestBody(content), options);
            request.Headers.ContentLength = length;
            // The caller owns the source and a retry reads it again: the SDK must not close it
            // after an attempt (its default), or the retry fails with "Cannot access a closed file".
            request.AutoCloseStream = false;
            condition?.Invoke(request);
            return _client.PutObjectAsync(request, w.Token);
        }, ct, TransferWatchdog.Stage.Sending);

        var outcome = options.Condition is WriteCondition.Match m
            ? await PutCompareAndSwapAsync(key, length, options, m.ETag, Send, ct)
            : await ConditionalAsync(key, options, () => Send(r => r.IfNoneMatch = "*"), r => r.ETag, length, ct);
        options.Progress?.Invoke(length);
        return outcome is PutOutcome.Written w2 ? new PutOutcome.Written(w2.Object with { Size = length }) : outcome;
    }

    private async Task<PutOutcome> PutSingleAsync(string key, byte[] buffer, int count, PutOptions options, CancellationToken ct)
    {
        Task<PutObjectResponse> Send(Action<PutObjectRequest>? condition) => CallAsync(key, w =>
        {
            var request = NewPut(key, w.WatchRequestBody(new MemoryStream(buffer, 0, count, writable: false)), options);
            condition?.Invoke(request);
            return _client.PutObjectAsync(request, w.Token);
        }, ct, TransferWatchdog.Stage.Sending);

        switch (options.Condition)
        {
            case WriteCondition.Match m:
                return await PutCompareAndSwapAsync(key, count, options, m.ETag, Send, ct);
            case WriteCondition.Absent:
                return await ConditionalAsync(key, options, () => Send(r => r.IfNoneMatch = "*"), r => r.ETag, count, ct);
            default:
                var written = await Send(null);
                return new PutOutcome.Written(ToInfo(key, count, _clock.GetUtcNow().UtcDateTime, written.ETag, options.Metadata));
        }
    }

    /// <summary>
    /// Runs a conditional request and turns the answer into an outcome: 412 is a lost condition,
    /// unless the object now there carries our writer id (a retry of a write that had succeeded, or
    /// a completion that had committed before its answer was lost: NoSuchUpload); 409
    /// ConditionalRequestConflict (AWS, two conditional writes racing) is retried.
    /// </summary>
    private async Task<PutOutcome> ConditionalAsync<T>(string key, PutOptions options, Func<Task<T>> send, Func<T, string?> etagOf, long size, CancellationToken ct)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                var r = await send();
                return new PutOutcome.Written(ToInfo(key, size, _clock.GetUtcNow().UtcDateTime, etagOf(r), options.Metadata));
            }
            catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.Conflict && attempt < 3)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100 * (attempt + 1) + Random.Shared.Next(100)), _clock, ct);
            }
            catch (AmazonS3Exception e) when (e.StatusCode is HttpStatusCode.PreconditionFailed or HttpStatusCode.Conflict or HttpStatusCode.NotFound)
            {
                var now = await HeadAsync(key, ct);
                if (now is not null && now.Writer is { } writer && writer == options.Metadata[MetadataKeys.Writer])
                    return new PutOutcome.Written(now);
                return new PutOutcome.PreconditionFailed(now);
            }
        }
    }

    private PutObjectRequest NewPut(string key, Stream body, PutOptions options)
    {
        var request = new PutObjectRequest
        {
            BucketName = _target.Bucket,
            Key = FullKey(key),
            InputStream = body,
            UseChunkEncoding = false,
            // Over TLS the payload is protected anyway: skip hashing it for SigV4 (the SDK refuses over plain HTTP).
            DisablePayloadSigning = _https,
            ContentType = options.ContentType,
        };
        foreach (var (k, v) in options.Metadata) request.Metadata[k] = v;
        return request;
    }

    private async Task<PutOutcome> PutCompareAndSwapAsync(string key, long count, PutOptions options, string expectedETag,
        Func<Action<PutObjectRequest>?, Task<PutObjectResponse>> send, CancellationToken ct)
    {
        var bare = expectedETag.Trim('"');
        _unquotedIfMatch ??= _capabilities?.UnquotedIfMatch ?? _capabilityCache?.TryGet(EndpointName, _target.Bucket)?.UnquotedIfMatch;
        foreach (var unquoted in _unquotedIfMatch is { } known ? [known] : new[] { false, true })
        {
            var ifMatch = unquoted ? bare : $"\"{bare}\"";
            var outcome = await ConditionalAsync(key, options, () => send(r => r.IfMatch = ifMatch), r => r.ETag, count, ct);
            if (outcome is PutOutcome.Written)
            {
                _unquotedIfMatch = unquoted;
                return outcome;
            }
            // A 412 may be RGW refusing the quoted form of the right ETag: try unquoted only when the
            // object really still carries the ETag we were given.
            var current = ((PutOutcome.PreconditionFailed)outcome).Current;
            if (_unquotedIfMatch is null && !unquoted && current?.ETag?.Trim('"') == bare) continue;
            return outcome;
        }
        return new PutOutcome.PreconditionFailed(await HeadAsync(key, ct));
    }

    private async Task<PutOutcome> PutMultipartAsync(string key, Stream content, byte[]? firstPart, PutOptions options, CancellationToken ct)
    {
        bool enforced = options.Condition is WriteCondition.Unconditional || (await GetCapabilitiesAsync(ct)).MultipartConditional;
        if (!enforced && options.Condition is WriteCondition.Match)
            throw new StorageException(StorageFailure.Unsupported,
                $"{Describe(key)}: {EndpointName} does not enforce compare-and-swap on multipart uploads, so objects over {SinglePutLimit >> 20} MiB cannot be replaced conditionally there");
        if (!enforced && await HeadAsync(key, ct) is { } already)
            return new PutOutcome.PreconditionFailed(already);

        var create = new InitiateMultipartUploadRequest { BucketName = _target.Bucket, Key = FullKey(key), ContentType = options.ContentType };
        foreach (var (k, v) in options.Metadata) create.Metadata[k] = v;
        var upload = await CallAsync(key, w => _client.InitiateMultipartUploadAsync(create, w.Token), ct);
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
                // A short part is the last one (ReadFullAsync met the end, so a checking source stream
                // has run its end-of-stream check before the upload is completed).
                if (n < PartSize) break;
            }
            foreach (var t in inFlight) etags.Add(await t);
            inFlight.Clear();
            etags.Sort((a, b) => (a.PartNumber ?? 0).CompareTo(b.PartNumber ?? 0));
            if (options.Length is { } promised && promised != total)
                throw S3PodException.Operational($"{Describe(key)}: the content was {total} bytes, {promised} were announced; nothing was stored");

            if (!enforced && await HeadAsync(key, ct) is { } meanwhile)
                return new PutOutcome.PreconditionFailed(meanwhile);
            var complete = new CompleteMultipartUploadRequest { BucketName = _target.Bucket, Key = FullKey(key), UploadId = uploadId, PartETags = etags };
            if (options.Condition is WriteCondition.Absent && enforced) complete.IfNoneMatch = "*";
            if (options.Condition is WriteCondition.Match m) complete.IfMatch = (_unquotedIfMatch ?? _capabilities?.UnquotedIfMatch ?? false) ? m.ETag.Trim('"') : $"\"{m.ETag.Trim('"')}\"";
            // A retried completion that the server had already committed answers NoSuchUpload (404):
            // ConditionalAsync settles that by the writer id, as it does a 412 after a lost response.
            var outcome = await ConditionalAsync(key, options, () => CallAsync(key, w => _client.CompleteMultipartUploadAsync(complete, w.Token), ct), r => r.ETag, total, ct);
            if (outcome is PutOutcome.PreconditionFailed) return outcome; // the finally block aborts the upload
            uploadId = null;

            // RGW returns an empty ETag from CompleteMultipartUpload: HEAD for the real one. Where the
            // server does not enforce create-only on completion, the HEAD also tells whether a writer
            // that completed at the same moment replaced our object (then we report the loss).
            var stored = await HeadAsync(key, ct);
            if (stored is null) throw new StorageException(StorageFailure.Changed, $"{Describe(key)} was deleted right after it was written");
            if (stored.Writer != options.Metadata[MetadataKeys.Writer])
            {
                if (options.Condition is WriteCondition.Unconditional) return new PutOutcome.Written(stored); // last writer wins, by definition
                return new PutOutcome.PreconditionFailed(stored);
            }
            return new PutOutcome.Written(stored);
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
                    var abort = new AbortMultipartUploadRequest { BucketName = _target.Bucket, Key = FullKey(key), UploadId = uploadId };
                    await CallAsync(key, w => _client.AbortMultipartUploadAsync(abort, w.Token), abortTimeout.Token);
                }
                catch { /* best effort; the original error matters more */ }
            }
        }
    }

    private async Task<PartETag> UploadPartAsync(string uploadId, string key, int partNumber, byte[] buffer, int count, BufferPool pool, CancellationToken ct)
    {
        try
        {
            var r = await CallAsync(key, w => _client.UploadPartAsync(new UploadPartRequest
            {
                BucketName = _target.Bucket,
                Key = FullKey(key),
                UploadId = uploadId,
                PartNumber = partNumber,
                InputStream = w.WatchRequestBody(new MemoryStream(buffer, 0, count, writable: false)),
                PartSize = count,
                UseChunkEncoding = false,
                DisablePayloadSigning = _https,
            }, w.Token), ct, TransferWatchdog.Stage.Sending);
            return new PartETag(partNumber, r.ETag);
        }
        finally
        {
            pool.Return(buffer);
        }
    }

    public async Task<DeleteOutcome> DeleteAsync(string key, CancellationToken ct, string? ifMatch = null)
    {
        // S3 answers 204 whether or not the key existed: HEAD first so callers can tell, and so a
        // conditional delete can be checked where the server would not enforce it.
        var current = await HeadAsync(key, ct);
        if (current is null) return DeleteOutcome.NotFound;
        if (ifMatch is not null && current.ETag?.Trim('"') != ifMatch.Trim('"')) return DeleteOutcome.PreconditionFailed;
        var request = new DeleteObjectRequest { BucketName = _target.Bucket, Key = FullKey(key) };
        if (ifMatch is not null && (await GetCapabilitiesAsync(ct)).ConditionalDelete) request.IfMatch = $"\"{ifMatch.Trim('"')}\"";
        try
        {
            await CallAsync(key, w => _client.DeleteObjectAsync(request, w.Token), ct);
            return DeleteOutcome.Deleted;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.PreconditionFailed && ifMatch is not null)
        {
            return DeleteOutcome.PreconditionFailed;
        }
        catch (Exception e) when (e is not S3PodException && e is not OperationCanceledException)
        {
            throw Translate(e, key);
        }
    }

    // ------------------------------------------------------------------ bucket and capabilities

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

    // ------------------------------------------------------------------ errors

    private StorageException MissingBucket() =>
        new(StorageFailure.MissingBucket, $"bucket '{_target.Bucket}' does not exist at {EndpointName} (create it, or run `s3pod init --create-bucket`)");

    /// <summary>Turns SDK and network failures into one-line messages that name the cause (never a
    /// secret); after retries, how many attempts were made and which limit passed.</summary>
    private StorageException Translate(Exception e, string key, int attempts = 1, string? expired = null)
    {
        var where = key.Length == 0 ? $"s3://{_target.Bucket}" : Describe(key);
        var tries = attempts > 1 ? $" ({attempts} attempts)" : "";
        if (expired is not null) return new(StorageFailure.Timeout, $"{where}: {EndpointName}: {expired}{tries}", e);
        switch (e)
        {
            case AmazonS3Exception s3:
                var code = s3.ErrorCode ?? "";
                if (code is "InvalidAccessKeyId" or "SignatureDoesNotMatch" or "InvalidToken" or "ExpiredToken")
                    return new(StorageFailure.Credentials, $"credentials rejected by {EndpointName} ({code}); check the key id and secret (`s3pod doctor`)", e);
                if (code == "NoSuchBucket") return MissingBucket();
                if (s3.StatusCode == HttpStatusCode.Forbidden)
                    return new(StorageFailure.AccessDenied, $"access denied to {where} ({(code.Length > 0 ? code : "403")}); check the credentials and the bucket policy", e);
                if (code == "KeyTooLongError")
                    return new(StorageFailure.Rejected, $"{where}: the key is too long for this server", e);
                var failure = IsThrottling(s3) ? StorageFailure.Throttled : (int)s3.StatusCode >= 500 ? StorageFailure.Server : StorageFailure.Rejected;
                var what = failure == StorageFailure.Throttled ? "the server kept asking to slow down" : failure == StorageFailure.Server ? "the server kept failing" : "refused";
                return new(failure, $"{where}: {(code.Length > 0 ? code : ((int)s3.StatusCode).ToString())}{(string.IsNullOrEmpty(s3.Message) ? "" : ": " + OneLine(s3.Message))}{(failure == StorageFailure.Rejected ? "" : $" ({what}{(attempts > 1 ? $", {attempts} attempts" : "")})")}", e);
            case AmazonClientException client when client.InnerException is { } inner && inner is not AmazonClientException:
                return Translate(inner, key, attempts);
            case AmazonClientException client when client.Message.Contains("credentials", StringComparison.OrdinalIgnoreCase):
                return new(StorageFailure.Credentials, "no S3 credentials found: set S3POD_S3_KEY_ID/S3POD_S3_SECRET, pass --key-file/--secret-file, or configure the AWS chain (AWS_* env, profile, web identity, instance role)", e);
            case TimeoutException:
                return new(StorageFailure.Timeout, $"{where}: {EndpointName} did not answer in time ({OneLine(Innermost(e).Message)}){tries}", e);
            case HttpRequestException or SocketException or IOException:
                return new(StorageFailure.Unreachable, $"cannot reach {EndpointName}: {OneLine(Innermost(e).Message)}{tries}", e);
            default:
                return new(StorageFailure.Rejected, $"{where}: {OneLine(e.Message)}{tries}", e);
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
        new(key, size, ToOffset(lastModified), string.IsNullOrEmpty(etag) ? null : etag, metadata);

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

    /// <summary>
    /// The SDK's HTTP client, on connections a <see cref="TransferWatchdog"/> can see into
    /// (<see cref="WatchedConnections"/>). As the SDK's own: no redirects, no decompression, the
    /// environment's proxy settings; no overall timeout (the watchdog bounds every wait); one client
    /// per store, reused.
    /// </summary>
    private sealed class WatchedHttpClientFactory(TimeSpan connectTimeout) : HttpClientFactory
    {
        private HttpClient? _client;

        public override HttpClient CreateHttpClient(IClientConfig clientConfig) => LazyInitializer.EnsureInitialized(ref _client, () => new HttpClient(new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = connectTimeout,
            ConnectCallback = WatchedConnections.ConnectAsync,
        })
        { Timeout = System.Threading.Timeout.InfiniteTimeSpan });

        public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => false;

        public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;

        public override string GetConfigUniqueString(IClientConfig clientConfig) => "s3pod-watched";
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
