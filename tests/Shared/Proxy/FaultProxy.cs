using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace S3Pod.TestProxy;

/// <summary>One request as the proxy saw it. <see cref="Status"/> is 0 while unanswered or when no answer was sent.</summary>
internal sealed class ProxyRecord(int seq, string method, string path, string query, string? range, string? fault)
{
    public int Seq { get; } = seq;
    public string Method { get; } = method;
    public string Path { get; } = path;
    public string Query { get; } = query;
    public string? Range { get; } = range;
    public string? Fault { get; } = fault;
    public int Status { get; internal set; }

    public override string ToString() =>
        $"#{Seq} {Method} {Path}{(Query.Length > 0 ? "?" + Query : "")}{(Range is null ? "" : " " + Range)} -> {(Status == 0 ? "-" : Status)}{(Fault is null ? "" : " [" + Fault + "]")}";
}

/// <summary>
/// A fault-injecting HTTP/1.1 relay on 127.0.0.1 (port 0), started by a test in front of the real
/// S3 server. Each client connection gets its own upstream connection, so keep-alive works as with
/// the server itself; heads are relayed byte for byte (SigV4 signs the Host header the client
/// used, which is the proxy's, and the server checks the one it receives: the same bytes), bodies
/// as framed on the wire (Content-Length, chunked, until close). Rules (<see cref="FaultRule"/>)
/// pick requests by method, path, query, header and occurrence and say what goes wrong.
/// Every request is recorded so tests can count them.
/// </summary>
internal sealed class FaultProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly DnsEndPoint _upstream;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(FaultRule Rule, int[] Seen)> _rules = [];
    private readonly List<ProxyRecord> _records = [];
    private readonly ConcurrentDictionary<Socket, byte> _sockets = new();
    private readonly ConcurrentBag<string> _problems = [];
    private readonly ConcurrentBag<Task> _connections = [];
    private readonly Task _acceptLoop;

    public FaultProxy(Uri upstream)
    {
        _upstream = new DnsEndPoint(upstream.Host, upstream.Port);
        _listener = new TcpListener(IPAddress.Loopback, 0);
        // A small receive window makes a request stall bite after ~N bytes, not after megabytes of
        // kernel buffering; on loopback it costs no throughput that matters here.
        _listener.Server.ReceiveBufferSize = 128 * 1024;
        _listener.Start();
        Endpoint = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The URL to give s3pod as its endpoint.</summary>
    public string Endpoint { get; }

    public FaultProxy Add(FaultRule rule)
    {
        lock (_rules) _rules.Add((rule, [0]));
        return this;
    }

    public FaultProxy Add(RequestMatch when, Fault fault, int skip = 0, int times = 1) => Add(new FaultRule(when, fault, skip, times));

    /// <summary>Client connections accepted so far (fewer than requests means keep-alive works).</summary>
    public int Connections => Volatile.Read(ref _accepted);
    private int _accepted;

    public IReadOnlyList<ProxyRecord> Requests
    {
        get { lock (_records) return [.. _records]; }
    }

    /// <summary>Things that went wrong in the proxy itself, not injected: a malformed message, an
    /// upstream that closed without answering. Non-empty means a result may be the proxy's fault.</summary>
    public IReadOnlyCollection<string> Problems => _problems;

    public string Describe() => string.Join('\n', Requests.Select(r => r.ToString()));

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                continue;
            }
            client.NoDelay = true;
            Interlocked.Increment(ref _accepted);
            _sockets.TryAdd(client, 0);
            _connections.Add(Task.Run(() => ServeAsync(client)));
        }
    }

    /// <summary>S3POD_FAULT_PROXY_TRACE=FILE appends every request head to FILE (debugging the suite).</summary>
    private static readonly string? Trace = Environment.GetEnvironmentVariable("S3POD_FAULT_PROXY_TRACE");

    private (Fault? Fault, ProxyRecord Record) Decide(HttpHead request)
    {
        Fault? chosen = null;
        lock (_rules)
        {
            foreach (var (rule, seen) in _rules)
            {
                if (!rule.When.Matches(request)) continue;
                int n = seen[0]++;
                if (chosen is null && n >= rule.Skip && n - rule.Skip < rule.Times) chosen = rule.Fault;
            }
        }
        if (Trace is { } trace)
            lock (_rules) File.AppendAllText(trace, $"{Endpoint} {Encoding.Latin1.GetString(request.Raw)}");
        lock (_records)
        {
            var record = new ProxyRecord(_records.Count + 1, request.Method, request.Path, request.Query, request.Header("Range"), chosen?.ToString());
            _records.Add(record);
            return (chosen, record);
        }
    }

    private async Task ServeAsync(Socket clientSocket)
    {
        var ct = _stop.Token;
        var client = new NetworkStream(clientSocket, ownsSocket: false);
        var fromClient = new HttpInput(client);
        Upstream? upstream = null;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var raw = await fromClient.ReadHeadAsync(ct);
                if (raw is null) break;
                var request = HttpHead.Parse(raw);
                var (fault, record) = Decide(request);
                bool keepAlive;
                switch (fault)
                {
                    case Fault.Silent:
                        await WaitForStopAsync();
                        keepAlive = false;
                        break;
                    case Fault.Respond answer:
                        keepAlive = await AnswerAsync(request, fromClient, client, answer, record, ct);
                        break;
                    default:
                        if (fault is Fault.RunFirst run) await run.Action();
                        upstream = await ConnectAsync(upstream, ct);
                        keepAlive = await ForwardAsync(request, fromClient, client, clientSocket, upstream, fault, record, ct);
                        break;
                }
                if (!keepAlive) break;
            }
        }
        catch (Exception) when (ct.IsCancellationRequested)
        {
            // disposed: a stalled or silent connection ends here
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // A peer went away mid-message (s3pod gave up on a request, a reset we injected): nothing to relay to.
        }
        catch (Exception e)
        {
            _problems.Add($"proxy error: {e.GetType().Name}: {e.Message}");
        }
        finally
        {
            upstream?.Dispose();
            _sockets.TryRemove(clientSocket, out _);
            clientSocket.Dispose();
        }
    }

    /// <summary>Relays one exchange, applying the fault; false when the client connection must end.</summary>
    private async Task<bool> ForwardAsync(HttpHead request, HttpInput fromClient, Stream client, Socket clientSocket, Upstream upstream, Fault? fault, ProxyRecord record, CancellationToken ct)
    {
        await upstream.Stream.WriteAsync(request.Raw, ct);
        var requestFraming = BodyFraming.OfRequest(request);
        long? rate = (fault as Fault.Throttle)?.BytesPerSecond;

        if (request.ExpectsContinue && requestFraming.Type != BodyFraming.Kind.None)
        {
            // The client waits (up to its own timeout) for "100 Continue" before sending the body.
            var first = await ReadResponseHeadAsync(upstream, record);
            if (first.Status != 100)
            {
                // Answered before the body (a 403, a 412): relay it and end the connection, since the
                // client may or may not send the body now.
                record.Status = first.Status;
                await client.WriteAsync(first.Raw, ct);
                await BodyRelay.RelayAsync(upstream.Input, new BodySink(client), BodyFraming.OfResponse(request.Method, first), ct);
                return false;
            }
            await client.WriteAsync(first.Raw, ct);
        }

        var requestSink = fault switch
        {
            Fault.ResetRequest r => new BodySink(upstream.Stream, r.AfterBytes),
            Fault.StallRequest s => new BodySink(upstream.Stream, s.AfterBytes, onLimit: () => StallAsync(s.For)),
            _ => new BodySink(upstream.Stream, bytesPerSecond: rate),
        };
        if (!await BodyRelay.RelayAsync(fromClient, requestSink, requestFraming, ct))
        {
            Reset(clientSocket);
            return false;
        }

        HttpHead response;
        do
        {
            response = await ReadResponseHeadAsync(upstream, record);
            if (response.Status == 100 && request.ExpectsContinue) continue; // a late duplicate
            if (response.Status < 200) await client.WriteAsync(response.Raw, ct);
        } while (response.Status < 200);
        record.Status = response.Status;
        var responseFraming = BodyFraming.OfResponse(request.Method, response);

        if (fault is Fault.ResetAfterForward)
        {
            await BodyRelay.RelayAsync(upstream.Input, BodySink.Discard(), responseFraming, ct);
            Reset(clientSocket);
            return false;
        }

        await client.WriteAsync(response.Raw, ct);
        var responseSink = fault switch
        {
            Fault.ResetResponse r => new BodySink(client, r.AfterBytes),
            Fault.TruncateResponse t => new BodySink(client, t.AfterBytes),
            Fault.StallResponse s => new BodySink(client, s.AfterBytes, onLimit: () => StallAsync(s.For)),
            _ => new BodySink(client, bytesPerSecond: rate),
        };
        if (!await BodyRelay.RelayAsync(upstream.Input, responseSink, responseFraming, ct))
        {
            if (fault is Fault.TruncateResponse)
            {
                await client.FlushAsync(ct);
                clientSocket.Shutdown(SocketShutdown.Both); // FIN after the short body, as a crashed server's kernel would
            }
            else
            {
                await client.FlushAsync(ct);
                await Task.Delay(ResetDelay, ct);
                Reset(clientSocket);
            }
            return false;
        }
        if (fault is Fault.ResetResponse or Fault.TruncateResponse)
        {
            // The body was shorter than the limit: the fault still happens, after it.
            Reset(clientSocket);
            return false;
        }
        return responseFraming.Type != BodyFraming.Kind.UntilClose && !request.WantsClose && !response.WantsClose;
    }

    private async Task<HttpHead> ReadResponseHeadAsync(Upstream upstream, ProxyRecord record)
    {
        var raw = await upstream.Input.ReadHeadAsync(_stop.Token);
        if (raw is null)
        {
            _problems.Add($"upstream closed without answering {record}");
            throw new IOException("upstream closed without answering");
        }
        return HttpHead.Parse(raw);
    }

    /// <summary>An S3-style error answer made by the proxy, as the server would send it.</summary>
    private async Task<bool> AnswerAsync(HttpHead request, HttpInput fromClient, Stream client, Fault.Respond answer, ProxyRecord record, CancellationToken ct)
    {
        var framing = BodyFraming.OfRequest(request);
        if (framing.Type != BodyFraming.Kind.None)
        {
            if (request.ExpectsContinue) await client.WriteAsync("HTTP/1.1 100 Continue\r\n\r\n"u8.ToArray(), ct);
            await BodyRelay.RelayAsync(fromClient, BodySink.Discard(), framing, ct);
        }
        var requestId = Guid.NewGuid().ToString("N")[..16].ToUpperInvariant();
        var body = Encoding.UTF8.GetBytes(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" +
            $"<Error><Code>{answer.Code}</Code><Message>{answer.Message}</Message><Resource>{SecurityElementEscape(request.Path)}</Resource>" +
            $"<RequestId>{requestId}</RequestId><HostId>s3pod-fault-proxy</HostId></Error>");
        var head = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {answer.Status} {ReasonPhrase(answer.Status)}\r\n")
            .Append("Content-Type: application/xml\r\n")
            .Append(CultureInfo.InvariantCulture, $"Content-Length: {body.Length}\r\n")
            .Append(CultureInfo.InvariantCulture, $"x-amz-request-id: {requestId}\r\n")
            .Append(CultureInfo.InvariantCulture, $"Date: {DateTime.UtcNow:R}\r\n")
            .Append("\r\n");
        await client.WriteAsync(Encoding.ASCII.GetBytes(head.ToString()), ct);
        if (request.Method != "HEAD") await client.WriteAsync(body, ct);
        record.Status = answer.Status;
        return !request.WantsClose;
    }

    private static string ReasonPhrase(int status) => status switch
    {
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Error",
    };

    private static string SecurityElementEscape(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

    /// <summary>The onLimit of a stall: wait, then continue; an endless stall waits for disposal and stops.</summary>
    private async Task<bool> StallAsync(TimeSpan? duration)
    {
        if (duration is { } d)
        {
            await Task.Delay(d, _stop.Token);
            return true;
        }
        await WaitForStopAsync();
        return false;
    }

    private async Task WaitForStopAsync()
    {
        try { await Task.Delay(Timeout.Infinite, _stop.Token); }
        catch (OperationCanceledException) { }
    }

    /// <summary>Time for the client to take the N bytes before a mid-body RST discards what is still unsent.</summary>
    private static readonly TimeSpan ResetDelay = TimeSpan.FromMilliseconds(200);

    private static void Reset(Socket socket)
    {
        try
        {
            // Linger 0: close() sends RST instead of FIN, which is what "connection reset" means.
            socket.LingerState = new LingerOption(true, 0);
            socket.Close();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
    }

    private async Task<Upstream> ConnectAsync(Upstream? current, CancellationToken ct)
    {
        if (current is not null && current.IsUsable) return current;
        current?.Dispose();
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(_upstream, ct);
        _sockets.TryAdd(socket, 0);
        return new Upstream(socket, () => _sockets.TryRemove(socket, out _));
    }

    /// <summary>The proxy's connection to the real server for one client connection.</summary>
    private sealed class Upstream(Socket socket, Action onDispose) : IDisposable
    {
        public NetworkStream Stream { get; } = new(socket, ownsSocket: true);
        public HttpInput Input => _input ??= new HttpInput(Stream);
        private HttpInput? _input;

        /// <summary>False when the server closed its end of an idle keep-alive connection.</summary>
        public bool IsUsable
        {
            get
            {
                try { return socket.Connected && !(socket.Poll(0, SelectMode.SelectRead) && socket.Available == 0); }
                catch (Exception e) when (e is SocketException or ObjectDisposedException) { return false; }
            }
        }

        public void Dispose()
        {
            onDispose();
            Stream.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        foreach (var s in _sockets.Keys)
        {
            try { s.Close(); } catch { /* already closed */ }
        }
        try { await _acceptLoop.WaitAsync(TimeSpan.FromSeconds(5)); } catch { /* stopping anyway */ }
        try { await Task.WhenAll(_connections).WaitAsync(TimeSpan.FromSeconds(5)); } catch { /* stopping anyway */ }
        _stop.Dispose();
    }
}
