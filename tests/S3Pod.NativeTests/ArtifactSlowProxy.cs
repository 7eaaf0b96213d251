using System.Net;
using System.Net.Sockets;

namespace S3Pod.NativeTests;

/// <summary>
/// A TCP proxy in front of the real server that holds every HTTP request for a fixed time before
/// passing it on, bytes unchanged (SigV4 stays valid). It widens the window between a read and the
/// conditional write that follows it, so processes started a few milliseconds apart really do race:
/// without it they tend to run one after the other and a missing condition could go unnoticed.
/// Requests are delimited by their headers and Content-Length (s3pod sends no chunked bodies).
/// </summary>
internal sealed class ArtifactSlowProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Uri _upstream;
    private readonly TimeSpan _delay;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    public ArtifactSlowProxy(string upstream, TimeSpan delay)
    {
        _upstream = new Uri(upstream);
        _delay = delay;
        _listener.Start();
        _accepting = Task.Run(AcceptAsync);
    }

    public string Endpoint => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

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
                var responses = upstream.GetStream().CopyToAsync(client.GetStream(), _stop.Token);
                await ForwardRequestsAsync(client.GetStream(), upstream.GetStream());
                upstream.Client.Shutdown(SocketShutdown.Send);
                await responses;
            }
            catch (Exception) { /* a closed connection ends the pump */ }
        }
    }

    private async Task ForwardRequestsAsync(Stream from, Stream to)
    {
        var reader = new BufferedStream(from, 1 << 16);
        var buffer = new byte[1 << 16];
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
            long length = 0;
            foreach (var line in System.Text.Encoding.ASCII.GetString(head.GetBuffer(), 0, (int)head.Length).Split("\r\n"))
                if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)) length = long.Parse(line[15..].Trim());
            await Task.Delay(_delay, _stop.Token);
            await to.WriteAsync(head.GetBuffer().AsMemory(0, (int)head.Length), _stop.Token);
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
