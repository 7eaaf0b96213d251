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
            if (options.Length is { } whole && content is MemoryStream memory && memory.Position == 0 && memory.Length == whole
                && memory.TryGetBuffer(out var segment) && segment.Offset == 0)
            {
                // Already in memory (a chunk's frame): sent from where it is, not copied first.
                options.Progress?.Invoke(whole);
                return await PutSingleAsync(key, segment.Array!, (int)whole, options, ct);
            }
            var buffer = GC.AllocateUninitializedArray<byte>(options.Length is { } n ? (int)n : PartSize);
            int filled = await content.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, ct);
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
        FencedReadStream? previous = null;
        Task<PutObjectResponse> Send(Action<PutObjectRequest>? condition) => CallAsync(key, async w =>
        {
            // The HTTP client may still be reading the failed attempt's body: wait for that read to
            // end (and refuse it any other) before the source is rewound for this one.
            if (previous is not null) await previous.FenceAsync();
            content.Position = 0;
            previous = new FencedReadStream(content);
            var request = NewPut(key, w.WatchRequestBody(previous), options);
            request.Headers.ContentLength = length;
            // The caller owns the source and a retry reads it again: the SDK must not close it
            // after an attempt (its default), or the retry fails with "Cannot access a closed file".
            request.AutoCloseStream = false;
            condition?.Invoke(request);
            return await _client.PutObjectAsync(request, w.Token);
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
            CannedACL = OwnerAcl,
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

        var create = new InitiateMultipartUploadRequest { BucketName = _target.Bucket, Key = FullKey(key), ContentType = options.ContentType, CannedACL = OwnerAcl };
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
                    n = await content.ReadAtLeastAsync(buf, buf.Length, throwOnEndOfStream: false, ct);
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
                // A short part is the last one (the read met the end, so a checking source stream
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
}
