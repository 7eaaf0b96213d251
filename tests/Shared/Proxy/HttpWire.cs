using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace S3Pod.TestProxy;

/// <summary>
/// One HTTP/1.1 message head exactly as it arrived. <see cref="Raw"/> is what the proxy relays, byte
/// for byte, so the SigV4 signature (which covers Host and the x-amz-* headers) stays valid; the
/// parsed fields are only for matching rules and framing bodies.
/// </summary>
internal sealed class HttpHead
{
    private readonly List<KeyValuePair<string, string>> _headers = [];

    public byte[] Raw { get; }
    public string StartLine { get; }

    private HttpHead(byte[] raw)
    {
        Raw = raw;
        // Header values may carry UTF-8 metadata; Latin-1 maps every byte to one char, which is all
        // the parsing below needs.
        var lines = Encoding.Latin1.GetString(raw).Split("\r\n");
        StartLine = lines[0];
        foreach (var line in lines.Skip(1))
        {
            if (line.Length == 0) continue;
            int colon = line.IndexOf(':');
            if (colon <= 0) throw new InvalidDataException($"malformed header line '{line}'");
            _headers.Add(new(line[..colon].Trim(), line[(colon + 1)..].Trim()));
        }
    }

    public static HttpHead Parse(byte[] raw) => new(raw);

    public string? Header(string name) =>
        _headers.FirstOrDefault(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;

    public bool HasToken(string name, string token) =>
        Header(name)?.Split(',').Any(t => t.Trim().Equals(token, StringComparison.OrdinalIgnoreCase)) == true;

    /// <summary>Request method (requests only).</summary>
    public string Method => StartLine.Split(' ')[0];

    /// <summary>Request target, e.g. <c>/bucket/key?uploadId=x&amp;partNumber=2</c> (requests only).</summary>
    public string Target => StartLine.Split(' ')[1];

    /// <summary>The decoded path of the target, without the query.</summary>
    public string Path
    {
        get
        {
            var t = Target;
            int q = t.IndexOf('?');
            return Uri.UnescapeDataString(q < 0 ? t : t[..q]);
        }
    }

    /// <summary>The raw query string, without the '?'.</summary>
    public string Query
    {
        get
        {
            var t = Target;
            int q = t.IndexOf('?');
            return q < 0 ? "" : t[(q + 1)..];
        }
    }

    /// <summary>The names of the query parameters (<c>uploads</c>, <c>uploadId</c>, <c>partNumber</c>, ...).</summary>
    public IEnumerable<string> QueryNames =>
        Query.Split('&', StringSplitOptions.RemoveEmptyEntries).Select(p => Uri.UnescapeDataString(p.Split('=')[0]));

    /// <summary>Response status code (responses only).</summary>
    public int Status => int.Parse(StartLine.Split(' ')[1], CultureInfo.InvariantCulture);

    public bool ExpectsContinue => HasToken("Expect", "100-continue");

    public bool WantsClose => HasToken("Connection", "close");
}

/// <summary>How a message body is delimited on the wire.</summary>
internal readonly record struct BodyFraming(BodyFraming.Kind Type, long Length = 0)
{
    public enum Kind { None, Length, Chunked, UntilClose }

    public static BodyFraming None => new(Kind.None);

    public static BodyFraming OfRequest(HttpHead request)
    {
        if (request.HasToken("Transfer-Encoding", "chunked")) return new(Kind.Chunked);
        if (request.Header("Content-Length") is { } cl && long.Parse(cl, CultureInfo.InvariantCulture) is > 0 and var n) return new(Kind.Length, n);
        return None;
    }

    public static BodyFraming OfResponse(string requestMethod, HttpHead response)
    {
        int status = response.Status;
        if (requestMethod == "HEAD" || status is (>= 100 and < 200) or 204 or 304) return None;
        if (response.HasToken("Transfer-Encoding", "chunked")) return new(Kind.Chunked);
        if (response.Header("Content-Length") is { } cl) return long.Parse(cl, CultureInfo.InvariantCulture) is > 0 and var n ? new(Kind.Length, n) : None;
        return new(Kind.UntilClose);
    }
}

/// <summary>A buffered reader over one side of a connection: message heads, chunk lines, body bytes.</summary>
internal sealed class HttpInput(Stream stream)
{
    private const int MaxHead = 64 * 1024;
    private readonly byte[] _buffer = new byte[MaxHead];
    private int _start, _end;

    /// <summary>Reads one message head through its blank line; null when the peer closed between messages.</summary>
    public async Task<byte[]?> ReadHeadAsync(CancellationToken ct)
    {
        while (true)
        {
            // Heads are small: rescanning the buffered bytes after each read costs nothing.
            for (int i = _start + 3; i < _end; i++)
            {
                if (_buffer[i] == '\n' && _buffer[i - 1] == '\r' && _buffer[i - 2] == '\n' && _buffer[i - 3] == '\r')
                {
                    var head = _buffer.AsSpan(_start, i + 1 - _start).ToArray();
                    _start = i + 1;
                    return head;
                }
            }
            if (!await FillAsync(ct))
            {
                if (_start == _end) return null;
                throw new EndOfStreamException("connection closed inside a message head");
            }
        }
    }

    /// <summary>Reads one line including its CRLF (chunk sizes, trailers).</summary>
    public async Task<byte[]> ReadLineAsync(CancellationToken ct)
    {
        while (true)
        {
            for (int i = _start + 1; i < _end; i++)
            {
                if (_buffer[i] == '\n' && _buffer[i - 1] == '\r')
                {
                    var line = _buffer.AsSpan(_start, i + 1 - _start).ToArray();
                    _start = i + 1;
                    return line;
                }
            }
            if (!await FillAsync(ct)) throw new EndOfStreamException("connection closed inside a chunk line");
        }
    }

    public async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken ct)
    {
        if (_start < _end)
        {
            int n = Math.Min(destination.Length, _end - _start);
            _buffer.AsMemory(_start, n).CopyTo(destination);
            _start += n;
            return n;
        }
        return await stream.ReadAsync(destination, ct);
    }

    private async Task<bool> FillAsync(CancellationToken ct)
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length) throw new InvalidDataException($"message head larger than {MaxHead} bytes");
        int n = await stream.ReadAsync(_buffer.AsMemory(_end), ct);
        _end += n;
        return n > 0;
    }
}

/// <summary>
/// Where relayed body bytes go. It counts them, paces them (throttled bandwidth) and, when a byte
/// limit is reached, asks <c>onLimit</c> what to do: continue (a stall that ended) or stop (reset,
/// truncate, an endless stall).
/// </summary>
internal sealed class BodySink(Stream output, long limit = long.MaxValue, long? bytesPerSecond = null, Func<Task<bool>>? onLimit = null)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _limit = limit;

    public long Written { get; private set; }

    /// <summary>Null output: drain a body without relaying it.</summary>
    public static BodySink Discard() => new(Stream.Null);

    /// <summary>Writes <paramref name="data"/>; false when the limit stopped it part way.</summary>
    public async ValueTask<bool> WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        while (data.Length > 0)
        {
            if (Written >= _limit)
            {
                if (onLimit is null || !await onLimit()) return false;
                _limit = long.MaxValue;
            }
            int n = (int)Math.Min(data.Length, _limit - Written);
            if (bytesPerSecond is { } rate)
            {
                // Pieces of 1/20 s worth, each sent when the average rate allows it.
                n = (int)Math.Min(n, Math.Max(1, rate / 20));
                var due = TimeSpan.FromSeconds((double)Written / rate) - _clock.Elapsed;
                if (due > TimeSpan.Zero) await Task.Delay(due, ct);
            }
            await output.WriteAsync(data[..n], ct);
            Written += n;
            data = data[n..];
        }
        return true;
    }
}

internal static class BodyRelay
{
    /// <summary>
    /// Copies one body from <paramref name="from"/> into <paramref name="to"/> as it is framed on the
    /// wire (chunk lines and trailers included). True when the whole body went through; false when
    /// the sink stopped it.
    /// </summary>
    public static async Task<bool> RelayAsync(HttpInput from, BodySink to, BodyFraming framing, CancellationToken ct)
    {
        switch (framing.Type)
        {
            case BodyFraming.Kind.None:
                return true;
            case BodyFraming.Kind.Length:
                return await CopyAsync(from, to, framing.Length, ct);
            case BodyFraming.Kind.UntilClose:
                return await CopyAsync(from, to, long.MaxValue, ct);
            default:
                while (true)
                {
                    var line = await from.ReadLineAsync(ct);
                    if (!await to.WriteAsync(line, ct)) return false;
                    var size = Encoding.ASCII.GetString(line).Split(';')[0].Trim();
                    long n = long.Parse(size, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                    if (n == 0)
                    {
                        while (true)
                        {
                            var trailer = await from.ReadLineAsync(ct);
                            if (!await to.WriteAsync(trailer, ct)) return false;
                            if (trailer.Length == 2) return true;
                        }
                    }
                    if (!await CopyAsync(from, to, n + 2, ct)) return false; // the data and its CRLF
                }
        }
    }

    private static async Task<bool> CopyAsync(HttpInput from, BodySink to, long count, CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        while (count > 0)
        {
            int n = await from.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count)), ct);
            if (n == 0)
            {
                if (count == long.MaxValue) return true; // an until-close body ended
                throw new EndOfStreamException($"peer closed with {count} body bytes still to come");
            }
            if (!await to.WriteAsync(buffer.AsMemory(0, n), ct)) return false;
            if (count != long.MaxValue) count -= n;
        }
        return true;
    }
}
