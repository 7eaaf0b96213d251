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

/// <summary>
/// The S3 implementation of <see cref="IObjectStore"/>: the request loop, reads and errors here; writes
/// in S3Writes.cs, the bucket and capability probes in S3CapabilityProbe.cs, the SDK's HTTP and
/// pipeline hooks in S3SdkPlumbing.cs. These S3*.cs files are the only ones that reference the AWS SDK.
/// Configured for the lowest common denominator of S3 servers (AWS, MinIO, Garage, R2, Ceph RGW):
/// path-style addressing, SigV4, checksums only when an operation requires them, and no
/// aws-chunked bodies (Garage and RGW reject the trailer; s3rver stores the framing as data).
/// </summary>
internal sealed partial class S3ObjectStore : IObjectStore, IBucketAdmin
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
    private readonly ProgressBudget _budget;
    private StoreCapabilities? _capabilities;
    // RGW 16 compares If-Match against the unquoted ETag; AWS wants it as HEAD returns it (quoted).
    // Known from the capability probe, or learned on first use.
    private bool? _unquotedIfMatch;
    private bool _bucketOwnerFullControl;

    public S3ObjectStore(S3Target target, NetworkPolicy? network = null, CapabilityCache? capabilityCache = null, TimeProvider? clock = null)
    {
        _target = target;
        _prefix = ObjectKeys.NormalizePrefix(target.Prefix);
        _capabilityCache = capabilityCache;
        _clock = clock ?? TimeProvider.System;
        _https = string.IsNullOrEmpty(target.Endpoint) || target.Endpoint.StartsWith("https://", StringComparison.OrdinalIgnoreCase);
        var policy = network ?? NetworkPolicy.Default;
        _retry = new RetryPolicy(policy);
        _budget = new ProgressBudget(policy.OperationTimeout, _clock);
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

    public void GrantBucketOwnerFullControl() => _bucketOwnerFullControl = true;

    public string Identity => IdentityOf(_target.Endpoint, _target.Region, _target.Bucket, _prefix);

    /// <summary>The <see cref="Identity"/> of the store a target opens, without opening it.</summary>
    public static string IdentityOf(string? endpoint, string region, string bucket, string prefix) =>
        $"s3\n{endpoint ?? "aws:" + region}\n{bucket}\n{ObjectKeys.NormalizePrefix(prefix)}";

    private S3CannedACL? OwnerAcl => _bucketOwnerFullControl ? S3CannedACL.BucketOwnerFullControl : null;

    // Redacted: a token in the endpoint's query or path must not reach a message.
    private string EndpointName => string.IsNullOrEmpty(_target.Endpoint) ? $"AWS S3 ({_target.Region})" : Redaction.Url(_target.Endpoint!);

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
    /// passes its ownership to that stream. Over all of it runs the store's <see cref="ProgressBudget"/>:
    /// when the operation has gone <see cref="NetworkPolicy.OperationTimeout"/> without progress,
    /// the attempt is cut and no other is made.
    /// </summary>
    private async Task<T> CallAsync<T>(string key, Func<TransferWatchdog, Task<T>> attempt, CancellationToken ct,
        TransferWatchdog.Stage initial = TransferWatchdog.Stage.AwaitingResponse)
    {
        var delivered = new StrongBox<long>();
        for (int tries = 1; ; tries++)
        {
            var watchdog = new TransferWatchdog(_retry.Network.IdleTimeout, _retry.Network.FirstByteTimeout, _clock, ct, initial, _budget, delivered);
            bool handedOff = false;
            try
            {
                TransferWatchdog.Current.Value = watchdog;
                var result = await attempt(watchdog);
                handedOff = result is Stream;
                // A body still to be read settles at its end: a server that answers every retry and
                // then stalls must not get the budget back each time.
                if (handedOff) _budget.Progress();
                else _budget.Settled();
                return result;
            }
            catch (Exception e) when (!ct.IsCancellationRequested && e is not S3PodException && IsRetryable(e, watchdog.Expired is not null))
            {
                if (tries >= _retry.Attempts) throw Translate(e, key, tries, watchdog.Expired);
                var delay = RetryPolicy.Delay(tries, IsThrottling(e));
                if (watchdog.BudgetExpired || _budget.WouldPass(delay)) throw Translate(e, key, tries, OutOfBudget(watchdog, e));
                await Task.Delay(delay, _clock, ct);
            }
            catch (AmazonServiceException)
            {
                // Answered (404, 412, 403, ...): the server is alive, whatever the caller makes of it.
                _budget.Settled();
                throw;
            }
            finally
            {
                if (!handedOff) watchdog.Dispose();
            }
        }
    }

    /// <summary>"no progress for 2 min (operation_timeout); the last attempt: no response within 60 s (first_byte_timeout)".</summary>
    private string OutOfBudget(TransferWatchdog? last, Exception error) =>
        _budget.Describe() + (last?.BudgetExpired == true ? "" : $"; the last attempt: {last?.Expired ?? Redact(OneLine(Innermost(error).Message))}");

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

    public async Task<WholeObject?> ReadWholeAsync(string key, long maxBytes, CancellationToken ct, Func<int, byte[]>? allocate = null)
    {
        try
        {
            // The GET and the reading of its body are one attempt: a body that breaks is fetched again whole.
            return await CallAsync(key, async w =>
            {
                // Asked as a range: the SDK checks a whole-object GET against its ETag with a managed
                // MD5 (twice the CPU of a chunked restore of random data), and a range bounds what an
                // oversized object can make us read. The total size comes from Content-Range.
                using var r = await _client.GetObjectAsync(new GetObjectRequest { BucketName = _target.Bucket, Key = FullKey(key), ByteRange = new ByteRange(0, maxBytes) }, w.Token);
                // (A range from byte 0 of a non-empty object is never empty; s3rver answers one of an
                // empty object with 200 and an odd Content-Range.)
                long total = r.ContentLength > 0 && r.ContentRange is { } range && range.LastIndexOf('/') is int slash and > 0
                    && long.TryParse(range.AsSpan(slash + 1), out var whole) ? whole : r.ContentLength;
                var info = ToInfo(key, total, r.LastModified, r.ETag, r.Metadata);
                if (total > maxBytes || r.ContentLength != total) return new WholeObject(info, null);
                var content = allocate?.Invoke((int)total) ?? new byte[total];
                await using var body = w.WatchResponseBody(r.ResponseStream);
                await body.ReadExactlyAsync(content.AsMemory(0, (int)total), w.Token);
                return new WholeObject(info, content);
            }, ct);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode != "NoSuchBucket")
        {
            return null;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            // Only an empty object has no byte 0.
            return await HeadAsync(key, ct) is { } empty ? new WholeObject(empty, empty.Size == 0 ? [] : null) : null;
        }
        catch (Exception e) when (e is not S3PodException && e is not OperationCanceledException)
        {
            throw Translate(e, key);
        }
    }

    private async Task ReadRangeAsync(string key, string? etag, long offset, int count, Memory<byte> dest, CancellationToken ct)
    {
        await using var s = new ResumableReadStream(offset, offset + count, new RangeReader(this, key, etag, offset + count));
        int got = await s.ReadAtLeastAsync(dest[..count], count, throwOnEndOfStream: false, ct);
        if (got != count) throw new StorageException(StorageFailure.Unreachable, $"{Describe(key)}: the range at offset {offset} ended early ({got} of {count} bytes)");
    }

    /// <summary>Opens [offset, end) of one version of an object, and decides about body failures.</summary>
    private sealed class RangeReader(S3ObjectStore store, string key, string? etag, long end) : IResumePolicy
    {
        private TransferWatchdog? _watchdog;
        private bool _outOfBudget;

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
            // A range past the end of the object looked up (416) means it was replaced by a shorter one:
            // a server that ignores If-Match (s3rver, Garage) answers a racing rewrite so.
            catch (AmazonS3Exception e) when (e.StatusCode is HttpStatusCode.PreconditionFailed or HttpStatusCode.NotFound or HttpStatusCode.RequestedRangeNotSatisfiable)
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
            var delay = RetryPolicy.Delay(attempt, false);
            if (_watchdog?.BudgetExpired == true || store._budget.WouldPass(delay))
            {
                _outOfBudget = true;
                return false;
            }
            await Task.Delay(delay, store._clock, ct);
            return true;
        }

        public void Completed() => store._budget.Settled();

        public Exception GiveUp(Exception error, int attempts) =>
            error is S3PodException known ? known
            : store.Translate(error, key, attempts, _outOfBudget ? store.OutOfBudget(_watchdog, error) : _watchdog?.Expired);
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
                int status = (int)s3.StatusCode;
                var what = failure == StorageFailure.Throttled ? (status == 503 ? "the server kept answering 503" : "the server kept asking to slow down")
                    : failure == StorageFailure.Server ? $"the server kept failing with {status}" : "refused";
                if (attempts <= 1 && failure != StorageFailure.Rejected) what = what.Replace("kept answering", "answered").Replace("kept asking", "asked").Replace("kept failing", "failed");
                // A response without a body (HEAD, or a proxy's bare 503) leaves the SDK's generic
                // "Error making request with Error Code …" text: it says nothing the code does not.
                var detail = string.IsNullOrEmpty(s3.Message) || s3.Message.StartsWith("Error making request", StringComparison.Ordinal) ? "" : ": " + Redact(OneLine(s3.Message));
                var label = code.Length > 0 ? (status >= 400 && !code.Contains(status.ToString(), StringComparison.Ordinal) && detail.Length == 0 ? $"{status} {code}" : code) : status.ToString();
                return new(failure, $"{where}: {label}{detail}{(failure == StorageFailure.Rejected ? "" : $" ({what}{(attempts > 1 ? $", {attempts} attempts" : "")})")}", e);
            case AmazonClientException client when client.InnerException is { } inner && inner is not AmazonClientException:
                return Translate(inner, key, attempts);
            case AmazonClientException client when client.Message.Contains("credentials", StringComparison.OrdinalIgnoreCase):
                return new(StorageFailure.Credentials, "no S3 credentials found: set S3POD_S3_KEY_ID/S3POD_S3_SECRET, pass --key-file/--secret-file, or configure the AWS chain (AWS_* env, profile, web identity, instance role)", e);
            case TimeoutException:
                return new(StorageFailure.Timeout, $"{where}: {EndpointName} did not answer in time ({Redact(OneLine(Innermost(e).Message))}){tries}", e);
            case HttpRequestException or SocketException or IOException:
                return new(StorageFailure.Unreachable, $"cannot reach {EndpointName}: {Redact(OneLine(Innermost(e).Message))}{tries}", e);
            default:
                return new(StorageFailure.Rejected, $"{where}: {Redact(OneLine(e.Message))}{tries}", e);
        }
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();

    /// <summary>Messages of the HTTP stack may quote the request URL, and with it a token in the
    /// endpoint's query or path.</summary>
    private string Redact(string message) =>
        string.IsNullOrEmpty(_target.Endpoint) ? message : Redaction.Apply(message.Replace(_target.Endpoint!, EndpointName, StringComparison.Ordinal));

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

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }

}
