using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace S3Pod.IntegrationTests;

/// <summary>
/// A TCP pass-through in front of an S3 server, for tests that look at the wire: it keeps every byte
/// each client connection sends (headers, to check what is on the wire), counts requests by method
/// from those bytes, can slow down what the server sends back (to catch a download half-way), and can
/// be stopped like a server that went away. Shared with the native tests (linked into that project).
/// Request bodies are recorded too: tests that count requests must not upload bodies that contain
/// HTTP request lines.
/// </summary>
internal sealed partial class RecordingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<MemoryStream> _connections = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Uri _upstream;
    private readonly int _port;

    /// <param name="downBytesPerSecond">Throttles server-to-client bytes of every connection (null: full speed).</param>
    public RecordingProxy(Uri upstream, long? downBytesPerSecond = null)
    {
        _upstream = upstream;
        DownBytesPerSecond = downBytesPerSecond;
        _listener.Start();
        _port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _loop = AcceptLoop();
    }

    public long? DownBytesPerSecond { get; set; }

    public string Url => $"http://127.0.0.1:{_port}";

    /// <summary>Everything clients sent, connection after connection.</summary>
    public string ClientBytes()
    {
        // One connection per line at least: a request body that does not end in a newline (a 1-byte
        // PUT) must not hide the first request line of the next connection from RequestLine().
        lock (_connections) return string.Join("\n", _connections.Select(c => Encoding.Latin1.GetString(c.ToArray())));
    }

    /// <summary>The requests seen so far: (method, path and query).</summary>
    public IReadOnlyList<(string Method, string Target)> Requests() =>
        RequestLine().Matches(ClientBytes()).Select(m => (m.Groups[1].Value, m.Groups[2].Value)).ToList();

    /// <summary>How many requests had this method (and, when given, a target containing <paramref name="targetContains"/>).</summary>
    public int Count(string method, string? targetContains = null) =>
        Requests().Count(r => r.Method == method && (targetContains is null || r.Target.Contains(targetContains, StringComparison.Ordinal)));

    /// <summary>Forgets what was recorded (connections stay open).</summary>
    public void Reset()
    {
        lock (_connections) foreach (var c in _connections) c.SetLength(0);
    }

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient c;
            try { c = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch { return; }
            _ = Relay(c);
        }
    }

    private async Task Relay(TcpClient client)
    {
        using var _ = client;
        using var upstream = new TcpClient();
        var record = new MemoryStream();
        lock (_connections) _connections.Add(record);
        try
        {
            await upstream.ConnectAsync(_upstream.Host, _upstream.Port, _stop.Token);
        }
        catch
        {
            return;
        }
        var a = client.GetStream();
        var b = upstream.GetStream();
        var toServer = Pump(a, b, record);
        var toClient = Pump(b, a, null);
        await Task.WhenAny(toServer, toClient);
    }

    private async Task Pump(Stream from, Stream to, MemoryStream? record)
    {
        var buffer = new byte[81920];
        try
        {
            int n;
            while ((n = await from.ReadAsync(buffer.AsMemory(0, record is null && DownBytesPerSecond is not null ? 16384 : buffer.Length), _stop.Token)) > 0)
            {
                if (record is not null) lock (_connections) record.Write(buffer, 0, n);
                await to.WriteAsync(buffer.AsMemory(0, n), _stop.Token);
                if (record is null && DownBytesPerSecond is { } rate) await Task.Delay(TimeSpan.FromSeconds((double)n / rate), _stop.Token);
            }
        }
        catch { /* connection closed, or the proxy stopped */ }
        finally { to.Close(); }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        try { await _loop; } catch { /* stopping */ }
    }

    [GeneratedRegex(@"(?m)^(GET|HEAD|PUT|POST|DELETE) (\S+) HTTP/1\.1\r$")]
    private static partial Regex RequestLine();
}
