using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using S3Pod.FaultTests.Harness;
using S3Pod.TestProxy;

namespace S3Pod.FaultTests;

/// <summary>
/// The proxy itself: a faithful relay when no rule applies (so a failure in the matrix is s3pod's,
/// not the proxy's), and each fault doing exactly what it claims.
/// </summary>
public sealed class ProxyTests
{
    [SkippableFact]
    public async Task PassThrough_KeepsSigV4Valid_KeepsConnectionsAlive_AndRelaysEveryS3Shape()
    {
        var server = Servers.RequireMain();
        await using var bucket = await TestBucket.CreateAsync(server);
        await using var proxy = new FaultProxy(new Uri(server.Endpoint));
        using var client = new AmazonS3Client(new BasicAWSCredentials(server.KeyId, server.Secret), new AmazonS3Config
        {
            ServiceURL = proxy.Endpoint,
            ForcePathStyle = true,
            AuthenticationRegion = server.Region,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            MaxErrorRetry = 0, // a proxy glitch must surface, not be retried away
        });

        var small = Tree.RandomBytes(300_000);
        await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket.Name, Key = "small", InputStream = new MemoryStream(small), UseChunkEncoding = false });
        var large = Tree.RandomBytes(12 << 20);
        var create = await client.InitiateMultipartUploadAsync(bucket.Name, "large");
        var parts = new List<PartETag>();
        for (int i = 0; i < 2; i++)
        {
            var part = await client.UploadPartAsync(new UploadPartRequest
            {
                BucketName = bucket.Name, Key = "large", UploadId = create.UploadId, PartNumber = i + 1,
                InputStream = new MemoryStream(large, i * (6 << 20), 6 << 20), UseChunkEncoding = false,
            });
            parts.Add(new PartETag(i + 1, part.ETag));
        }
        await client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = bucket.Name, Key = "large", UploadId = create.UploadId, PartETags = parts });

        Assert.Equal(small, await ReadAll(client, new GetObjectRequest { BucketName = bucket.Name, Key = "small" }));
        Assert.Equal(large, await ReadAll(client, new GetObjectRequest { BucketName = bucket.Name, Key = "large" }));
        Assert.Equal(large.AsSpan(5_000_000, 1000).ToArray(), await ReadAll(client, new GetObjectRequest { BucketName = bucket.Name, Key = "large", ByteRange = new ByteRange(5_000_000, 5_000_999) }));
        Assert.Equal(12 << 20, (await client.GetObjectMetadataAsync(bucket.Name, "large")).ContentLength);
        var listing = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket.Name });
        Assert.Equal(["large", "small"], listing.S3Objects.Select(o => o.Key).Order());
        var missing = await Assert.ThrowsAsync<AmazonS3Exception>(() => client.GetObjectMetadataAsync(bucket.Name, "nope"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        await client.DeleteObjectAsync(bucket.Name, "small");

        Assert.Empty(proxy.Problems);
        Assert.Equal(12, proxy.Requests.Count);
        Assert.All(proxy.Requests, r => Assert.NotEqual(0, r.Status));
        Assert.True(proxy.Connections < proxy.Requests.Count / 2, $"{proxy.Connections} connections for {proxy.Requests.Count} requests: keep-alive is not relayed\n{proxy.Describe()}");
    }

    [Fact]
    public async Task Chunked_RequestAndResponseBodies_AreRelayedIntact_OverOneConnection()
    {
        await using var origin = new EchoOrigin();
        await using var proxy = new FaultProxy(origin.Url);
        using var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(1) }) { Timeout = TimeSpan.FromSeconds(10) };
        for (int i = 0; i < 3; i++)
        {
            var body = Tree.RandomBytes(200_000 + i);
            // No length known: HttpClient sends the request chunked; the origin echoes it chunked.
            var content = new StreamContent(new NonSeekable(body));
            var r = await http.PostAsync(proxy.Endpoint + "/echo?chunked=1", content);
            Assert.Equal(body, await r.Content.ReadAsByteArrayAsync());
            Assert.True(r.Headers.TransferEncodingChunked);
            var fixedLength = await http.PostAsync(proxy.Endpoint + "/echo", new ByteArrayContent(body));
            Assert.Equal(body, await fixedLength.Content.ReadAsByteArrayAsync());
        }
        Assert.Equal(1, proxy.Connections);
        Assert.Empty(proxy.Problems);
    }

    [Fact]
    public async Task EachFault_DoesWhatItSays()
    {
        await using var origin = new EchoOrigin();
        var body = Tree.RandomBytes(1 << 20);

        // Reset mid-response: the client gets exactly N body bytes, then an error.
        await using (var proxy = new FaultProxy(origin.Url).Add(On.Any, new Fault.ResetResponse(100_000)))
        {
            var (got, error) = await Fetch(proxy, body);
            Assert.Equal(100_000, got);
            Assert.NotNull(error);
        }
        // The same for a client busy for a moment, with a small receive buffer: a reset (linger 0)
        // discards what the proxy's kernel has not sent yet, so the proxy gives the client time to
        // take all N bytes first; otherwise "after N bytes" would mean "after fewer".
        await using (var proxy = new FaultProxy(origin.Url).Add(On.Any, new Fault.ResetResponse(100_000)))
        {
            using var raw = new TcpClient { ReceiveBufferSize = 16 * 1024 };
            await raw.ConnectAsync(IPAddress.Loopback, new Uri(proxy.Endpoint).Port);
            var stream = raw.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {body.Length}\r\n\r\n"));
            await stream.WriteAsync(body);
            await Task.Delay(100);
            var received = new MemoryStream();
            var buffer = new byte[65536];
            try
            {
                int n;
                while ((n = await stream.ReadAsync(buffer)) > 0) received.Write(buffer, 0, n);
            }
            catch (IOException) { }
            var bytes = received.ToArray();
            int headEnd = Encoding.Latin1.GetString(bytes).IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
            Assert.Equal(100_000, bytes.Length - headEnd);
        }
        // Truncated: N bytes of a longer Content-Length, then EOF.
        await using (var proxy = new FaultProxy(origin.Url).Add(On.Any, new Fault.TruncateResponse(70_000)))
        {
            var (got, error) = await Fetch(proxy, body);
            Assert.Equal(70_000, got);
            Assert.NotNull(error);
        }
        // 503 SlowDown with S3's XML body, then the same connection serves the next request.
        await using (var proxy = new FaultProxy(origin.Url).Add(On.Any, Fault.SlowDown, times: 2))
        {
            using var http = new HttpClient();
            var r1 = await http.PostAsync(proxy.Endpoint + "/echo", new ByteArrayContent(body));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, r1.StatusCode);
            Assert.Contains("<Code>SlowDown</Code>", await r1.Content.ReadAsStringAsync());
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.PostAsync(proxy.Endpoint + "/echo", new ByteArrayContent(body))).StatusCode);
            var r3 = await http.PostAsync(proxy.Endpoint + "/echo", new ByteArrayContent(body));
            Assert.Equal(body, await r3.Content.ReadAsByteArrayAsync());
            Assert.Equal(1, proxy.Connections);
            Assert.Equal([503, 503, 200], proxy.Requests.Select(r => r.Status));
        }
        // Silent: nothing comes back.
        await using (var proxy = new FaultProxy(origin.Url).Add(On.Any, new Fault.Silent(), times: FaultRule.Always))
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
            await Assert.ThrowsAnyAsync<TaskCanceledException>(() => http.GetAsync(proxy.Endpoint + "/echo"));
        }
        // Stall: N bytes, then nothing for the stall's length, then the rest.
        await using (var proxy = new FaultProxy(origin.Url).Add(On.Any, new Fault.StallResponse(50_000, TimeSpan.FromSeconds(1.5))))
        {
            using var http = new HttpClient();
            var r = await http.SendAsync(new HttpRequestMessage(HttpMethod.Post, proxy.Endpoint + "/echo") { Content = new ByteArrayContent(body) }, HttpCompletionOption.ResponseHeadersRead);
            var stream = await r.Content.ReadAsStreamAsync();
            var buffer = new byte[body.Length];
            int n = 0;
            while (n < 50_000) n += await stream.ReadAsync(buffer.AsMemory(n));
            var clock = Stopwatch.StartNew();
            while (n < body.Length)
            {
                int m = await stream.ReadAsync(buffer.AsMemory(n));
                if (m == 0) break;
                n += m;
            }
            Assert.True(clock.Elapsed > TimeSpan.FromSeconds(1.3), $"the rest came after {clock.Elapsed}");
            Assert.Equal(body, buffer);
        }
        // Throttle: 1 MiB at 512 KiB/s each way takes about 4 s.
        await using (var proxy = new FaultProxy(origin.Url).Add(On.Any, new Fault.Throttle(512 << 10)))
        {
            var clock = Stopwatch.StartNew();
            using var http = new HttpClient();
            var r = await http.PostAsync(proxy.Endpoint + "/echo", new ByteArrayContent(body));
            Assert.Equal(body, await r.Content.ReadAsByteArrayAsync());
            Assert.InRange(clock.Elapsed.TotalSeconds, 3.5, 8);
        }
        // Reset mid-request: the origin sees at most N bytes; the client an error.
        await using (var proxy = new FaultProxy(origin.Url).Add(On.Any, new Fault.ResetRequest(100_000)))
        {
            using var http = new HttpClient();
            int before = origin.Completed;
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.PostAsync(proxy.Endpoint + "/echo", new ByteArrayContent(body)));
            await Task.Delay(200);
            Assert.Equal(before, origin.Completed);
        }
        // After commit: the origin handled the request to the end, the client still sees a reset.
        await using (var proxy = new FaultProxy(origin.Url).Add(On.Any, new Fault.ResetAfterForward()))
        {
            using var http = new HttpClient();
            int before = origin.Completed;
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.PostAsync(proxy.Endpoint + "/echo", new ByteArrayContent(body)));
            Assert.Equal(before + 1, origin.Completed);
            Assert.Equal(200, proxy.Requests.Single().Status);
        }
    }

    private static async Task<(long Got, Exception? Error)> Fetch(FaultProxy proxy, byte[] body)
    {
        using var http = new HttpClient();
        var r = await http.SendAsync(new HttpRequestMessage(HttpMethod.Post, proxy.Endpoint + "/echo") { Content = new ByteArrayContent(body) }, HttpCompletionOption.ResponseHeadersRead);
        var stream = await r.Content.ReadAsStreamAsync();
        long got = 0;
        var buffer = new byte[65536];
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer)) > 0) got += n;
            return (got, null);
        }
        catch (Exception e)
        {
            return (got, e);
        }
    }

    private static async Task<byte[]> ReadAll(AmazonS3Client client, GetObjectRequest request)
    {
        using var r = await client.GetObjectAsync(request);
        using var ms = new MemoryStream();
        await r.ResponseStream.CopyToAsync(ms);
        return ms.ToArray();
    }

    private sealed class NonSeekable(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }

    /// <summary>
    /// A raw HTTP/1.1 origin for the proxy's own tests: echoes each request body back, chunked when
    /// the query asks for it, keep-alive, and counts requests it read to the end.
    /// </summary>
    private sealed class EchoOrigin : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private int _completed;

        public EchoOrigin()
        {
            _listener.Start();
            Url = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");
            _ = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    Socket s;
                    try { s = await _listener.AcceptSocketAsync(_stop.Token); } catch { return; }
                    _ = Task.Run(() => ServeAsync(s));
                }
            });
        }

        public Uri Url { get; }
        public int Completed => Volatile.Read(ref _completed);

        private async Task ServeAsync(Socket socket)
        {
            using var stream = new NetworkStream(socket, ownsSocket: true);
            var input = new HttpInput(stream);
            try
            {
                while (await input.ReadHeadAsync(_stop.Token) is { } raw)
                {
                    var request = HttpHead.Parse(raw);
                    var body = new MemoryStream();
                    if (request.ExpectsContinue) await stream.WriteAsync("HTTP/1.1 100 Continue\r\n\r\n"u8.ToArray());
                    var copy = new MemoryStream();
                    await BodyRelay.RelayAsync(input, new BodySink(copy), BodyFraming.OfRequest(request), _stop.Token);
                    var data = Decode(copy.ToArray(), BodyFraming.OfRequest(request).Type == BodyFraming.Kind.Chunked);
                    Interlocked.Increment(ref _completed);
                    if (request.Query.Contains("chunked"))
                    {
                        await stream.WriteAsync(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"));
                        for (int i = 0; i < data.Length; i += 70_000)
                        {
                            int n = Math.Min(70_000, data.Length - i);
                            await stream.WriteAsync(Encoding.ASCII.GetBytes($"{n:x}\r\n"));
                            await stream.WriteAsync(data.AsMemory(i, n));
                            await stream.WriteAsync("\r\n"u8.ToArray());
                        }
                        await stream.WriteAsync("0\r\n\r\n"u8.ToArray());
                    }
                    else
                    {
                        await stream.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {data.Length}\r\n\r\n"));
                        await stream.WriteAsync(data);
                    }
                }
            }
            catch (Exception) { /* client or proxy went away */ }
        }

        private static byte[] Decode(byte[] wire, bool chunked)
        {
            if (!chunked) return wire;
            var output = new MemoryStream();
            int i = 0;
            while (true)
            {
                int eol = Array.IndexOf(wire, (byte)'\n', i);
                int size = Convert.ToInt32(Encoding.ASCII.GetString(wire, i, eol - 1 - i).Split(';')[0], 16);
                i = eol + 1;
                if (size == 0) return output.ToArray();
                output.Write(wire, i, size);
                i += size + 2;
            }
        }

        public ValueTask DisposeAsync()
        {
            _stop.Cancel();
            _listener.Stop();
            return ValueTask.CompletedTask;
        }
    }
}
