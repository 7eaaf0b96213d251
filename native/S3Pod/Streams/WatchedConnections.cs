using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace S3Pod.Streams;

/// <summary>
/// TCP connections for the HTTP clients (S3 and URL downloads) that let a <see cref="TransferWatchdog"/>
/// see what the operating system has not sent yet. The end of a request body is only the moment it
/// went into the socket's buffers, which can hold megabytes: on a slow link they drain for seconds
/// before the server has the request. A connection used by a request registers itself with that
/// request's watchdog (flowing with the async call as <see cref="TransferWatchdog.Current"/>), so
/// the watchdog can tell a draining upload from a server that stopped reading, and starts the
/// first-byte clock only once the queue is empty.
/// </summary>
internal static partial class WatchedConnections
{
    /// <summary>A <see cref="SocketsHttpHandler.ConnectCallback"/>.</summary>
    public static async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken ct)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, ct);
            return new Connection(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>An open connection: the network stream, plus how many bytes its send queue still holds.</summary>
    internal sealed class Connection(Socket socket) : NetworkStream(socket, ownsSocket: true)
    {
        /// <summary>Bytes written but not yet sent, or null where the OS does not say.</summary>
        public long? Unsent() => UnsentBytes(Socket);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
        {
            TransferWatchdog.Current.Value?.Carries(this);
            return base.WriteAsync(buffer, ct);
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            TransferWatchdog.Current.Value?.Carries(this);
            base.Write(buffer);
        }
    }

    // Linux: ioctl TIOCOUTQ (SIOCOUTQ); macOS: getsockopt SO_NWRITE. Windows has no cheap equivalent:
    // there the watchdog falls back to an allowance for draining.
    private const nuint TIOCOUTQ = 0x5411;
    private const int SOL_SOCKET_BSD = 0xffff;
    private const int SO_NWRITE = 0x1024;

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int Ioctl(nint fd, nuint request, out int value);

    [LibraryImport("libc", EntryPoint = "getsockopt", SetLastError = true)]
    private static partial int GetSockOpt(nint fd, int level, int name, out int value, ref int length);

    private static long? UnsentBytes(Socket socket)
    {
        try
        {
            var fd = socket.SafeHandle.DangerousGetHandle();
            if (OperatingSystem.IsLinux()) return Ioctl(fd, TIOCOUTQ, out int queued) == 0 ? queued : null;
            if (OperatingSystem.IsMacOS())
            {
                int length = sizeof(int);
                return GetSockOpt(fd, SOL_SOCKET_BSD, SO_NWRITE, out int queued, ref length) == 0 ? queued : null;
            }
        }
        catch (Exception e) when (e is ObjectDisposedException or EntryPointNotFoundException or DllNotFoundException)
        {
        }
        return null;
    }
}
