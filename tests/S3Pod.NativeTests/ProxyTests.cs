using System.Net;
using System.Net.Sockets;
using System.Text;

namespace S3Pod.NativeTests;

/// <summary>
/// The binary behind an HTTP proxy: .NET's HttpClient reads HTTP_PROXY / HTTPS_PROXY / NO_PROXY
/// (HTTPS_PROXY for https:// endpoints; the Ceph endpoint here is http://, so HTTP_PROXY is the one
/// exercised). Unlike curl and the Actions toolkit, .NET does not exempt loopback addresses from
/// the proxy, so the real Ceph endpoint on 127.0.0.1 can stay as it is; NO_PROXY exempts it.
/// </summary>
public sealed class ProxyTests
{
    [SkippableFact]
    public async Task HttpProxy_CarriesEveryRequest_AndTheRoundTripIsByteExact()
    {
        Binary.SkipIfAbsent();
        using var s3pod = new Binary();
        s3pod.CreateBucket();
        await using var proxy = new CountingProxy(new Uri(Binary.Endpoint!));
        s3pod.Env["HTTP_PROXY"] = proxy.Url;
        s3pod.WriteFile("in.bin", "through the proxy\n");

        var up = s3pod.Exec("upload", "px/k", "in.bin");
        Assert.True(up.Code == 0, up.All);
        int afterUpload = proxy.Requests;
        Assert.True(afterUpload >= 1, "the upload went through the proxy");
        var down = s3pod.Exec("download", "px/k", "out.bin");
        Assert.True(down.Code == 0, down.All);
        Assert.True(proxy.Requests > afterUpload, "the download went through the proxy");
        Assert.Equal("through the proxy\n", File.ReadAllText(Path.Combine(s3pod.Work, "out.bin")));
        Assert.All(proxy.Targets, t => Assert.StartsWith(Binary.Endpoint!.TrimEnd('/') + "/", t));
    }

    [SkippableFact]
    public async Task NoProxy_NamingTheEndpointsHost_BypassesTheProxy()
    {
        Binary.SkipIfAbsent();
        using var s3pod = new Binary();
        s3pod.CreateBucket();
        await using var proxy = new CountingProxy(new Uri(Binary.Endpoint!));
        s3pod.Env["HTTP_PROXY"] = proxy.Url;
        s3pod.Env["NO_PROXY"] = new Uri(Binary.Endpoint!).Host;
        var r = s3pod.Exec("exists", "px/none");
        Assert.Equal(1, r.Code);
        Assert.Equal(0, proxy.Requests);
    }

    [SkippableFact]
    public async Task ADeadProxy_IsAnOperationalError_NamingTheEndpoint()
    {
        Binary.SkipIfAbsent();
        using var s3pod = new Binary();
        var port = new CountingProxy(new Uri(Binary.Endpoint!));
        string url = port.Url;
        await port.DisposeAsync();
        s3pod.Env["HTTP_PROXY"] = url;
        s3pod.Env["S3POD_RETRIES"] = "0";
        var r = s3pod.Exec("exists", "px/none");
        Assert.Equal(2, r.Code);
        Assert.Single(r.Err.Trim().Split('\n'));
    }

    /// <summary>
    /// A forward proxy on 127.0.0.1: reads each connection's first request (absolute-form target),
    /// counts it, rewrites the target to origin-form and then relays the connection's bytes both ways
    /// to the upstream server. Later requests on a kept-alive connection pass through unchanged
    /// (absolute-form, which HTTP/1.1 servers accept), so Requests counts connections' first requests.
    /// </summary>
    private sealed class CountingProxy : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly Uri _upstream;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _accepting;
        private int _requests;

        public CountingProxy(Uri upstream)
        {
            _upstream = upstream;
            _listener.Start();
            _accepting = Task.Run(AcceptAsync);
        }

        public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        public int Requests => Volatile.Read(ref _requests);
        public List<string> Targets { get; } = new();

        private async Task AcceptAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
                catch (Exception) { return; }
                _ = Task.Run(() => RelayAsync(client));
            }
        }

        private async Task RelayAsync(TcpClient client)
        {
            using var _ = client;
            var down = client.GetStream();
            var head = new List<byte>();
            var buffer = new byte[1];
            // The request line and headers, byte by byte up to the blank line (small, once per connection).
            while (!(head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n'))
            {
                if (await down.ReadAsync(buffer, _stop.Token) == 0) return;
                head.Add(buffer[0]);
            }
            var text = Encoding.ASCII.GetString(head.ToArray());
            var line = text[..text.IndexOf("\r\n", StringComparison.Ordinal)];
            var parts = line.Split(' ');
            if (parts.Length != 3 || !Uri.TryCreate(parts[1], UriKind.Absolute, out var target)) return;
            Interlocked.Increment(ref _requests);
            lock (Targets) Targets.Add(parts[1]);
            using var upstream = new TcpClient();
            await upstream.ConnectAsync(_upstream.Host, _upstream.Port, _stop.Token);
            var up = upstream.GetStream();
            var rewritten = $"{parts[0]} {target.PathAndQuery} {parts[2]}" + text[line.Length..];
            await up.WriteAsync(Encoding.ASCII.GetBytes(rewritten), _stop.Token);
            var toServer = down.CopyToAsync(up, _stop.Token);
            var toClient = up.CopyToAsync(down, _stop.Token);
            try { await Task.WhenAny(toServer, toClient); } catch (Exception) { /* a side closed */ }
        }

        public async ValueTask DisposeAsync()
        {
            _stop.Cancel();
            _listener.Stop();
            try { await _accepting; } catch (Exception) { /* stopped */ }
        }
    }
}
