using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace S3Pod.IntegrationTests;

/// <summary>
/// A TCP proxy in front of the real server that counts HTTP requests (method and path of each),
/// passing every byte through unchanged so SigV4 signatures stay valid. Requests are delimited by
/// their headers and Content-Length (s3pod never sends chunked bodies).
/// </summary>
internal sealed class ArtifactCountingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Uri _upstream;
    private readonly ConcurrentQueue<string> _requests = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    public ArtifactCountingProxy(string upstream)
    {
        _upstream = new Uri(upstream);
        _listener.Start();
        _accepting = Task.Run(AcceptAsync);
    }

    public string Endpoint => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>"GET /bucket/key?…" lines, in arrival order.</summary>
    public IReadOnlyList<string> Requests => _requests.ToArray();

    public void Reset() => _requests.Clear();

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        using (var upstream = new TcpClient())
        {
            try
            {
                await upstream.ConnectAsync(_upstream.Host, _upstream.Port, _stop.Token);
                var down = client.GetStream();
                var up = upstream.GetStream();
                var responses = up.CopyToAsync(down, _stop.Token);
                await ForwardRequestsAsync(down, up);
                upstream.Client.Shutdown(SocketShutdown.Send);
                await responses;
            }
            catch (Exception) { /* a closed connection ends the pump */ }
        }
    }

    private async Task ForwardRequestsAsync(Stream from, Stream to)
    {
        var reader = new BufferedStream(from, 1 << 16);
        while (true)
        {
            var head = new MemoryStream();
            uint last4 = 0;
            while (last4 != 0x0D0A0D0A) // the blank line after the headers
            {
                int b = reader.ReadByte();
                if (b < 0) return;
                head.WriteByte((byte)b);
                last4 = (last4 << 8) | (uint)b;
            }
            var text = Encoding.ASCII.GetString(head.GetBuffer(), 0, (int)head.Length);
            var firstLine = text[..text.IndexOf('\r')];
            _requests.Enqueue(firstLine[..firstLine.LastIndexOf(' ')]);
            long length = 0;
            foreach (var line in text.Split("\r\n"))
                if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)) length = long.Parse(line[15..].Trim());
            await to.WriteAsync(head.GetBuffer().AsMemory(0, (int)head.Length), _stop.Token);
            var buffer = new byte[1 << 16];
            while (length > 0)
            {
                int n = await reader.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, length)), _stop.Token);
                if (n == 0) return;
                await to.WriteAsync(buffer.AsMemory(0, n), _stop.Token);
                length -= n;
            }
            await to.FlushAsync(_stop.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        try { await _accepting; } catch (Exception) { }
    }
}
