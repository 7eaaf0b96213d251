using System.Runtime.CompilerServices;

namespace S3Pod.Streams;

/// <summary>
/// Bounds one network exchange so that nothing waits forever: while a request body is being sent
/// and while a response body is being received, no more than the idle timeout may pass without a
/// byte moving; between the last byte sent and the first byte of the answer, no more than the
/// first-byte timeout. When a limit passes, <see cref="Token"/> is cancelled, the watched streams
/// are closed (which also unblocks a synchronous read) and <see cref="Expired"/> says which limit,
/// in words fit for a message. Connecting is bounded by the HTTP handler's connect timeout.
/// <para>
/// The end of a request body is only the moment it was handed to the operating system, whose
/// socket buffers (megabytes) may still be draining over a slow link. Where the OS says how much a
/// connection has not sent yet (<see cref="WatchedConnections"/>: Linux, macOS), bytes leaving the
/// queue count as progress under the idle limit and the first-byte clock starts when it is empty,
/// so a slow upload is not mistaken for a silent server and a server that stops reading is caught.
/// Elsewhere the first-byte limit grows by the time the last <see cref="DrainAllowanceCap"/> of the
/// body would take at <see cref="SlowestLink"/>.
/// </para>
/// <para>
/// With a <see cref="ProgressBudget"/>, the attempt also ends when the operation as a whole has gone
/// without progress for too long, whichever limit of its own is still running.
/// </para>
/// </summary>
internal sealed class TransferWatchdog : IDisposable
{
    public enum Stage { Sending, AwaitingResponse, Receiving }

    /// <summary>The watchdog of the request being made in this async flow: the connection it is sent
    /// on registers itself here (<see cref="Carries"/>).</summary>
    public static readonly AsyncLocal<TransferWatchdog?> Current = new();

    private readonly CancellationTokenSource _cts;
    private readonly TimeProvider _clock;
    private readonly TimeSpan _idle;
    private readonly TimeSpan _firstByte;
    private readonly ITimer _timer;
    private readonly List<IDisposable> _closeOnExpiry = new();
    private const int SlowestLink = 64 << 10;        // bytes per second
    private const int DrainAllowanceCap = 4 << 20;   // the most a socket's buffers hold, about
    private long _lastActivity;
    private long _drainAllowanceTicks;
    private volatile WatchedConnections.Connection? _connection;
    private long _lastUnsent;
    private volatile Stage _stage;
    private int _expired;
    private readonly ProgressBudget? _budget;
    private int _inBudget;
    private int _disposed;
    // The furthest offset of the request body known to have left this machine, over every attempt of
    // one request: a retry sending the same bytes again is not progress.
    private readonly StrongBox<long> _delivered;
    private long _bodyPosition;

    /// <param name="budget">The operation's no-progress deadline, shared by all its requests.</param>
    /// <param name="delivered">Shared by the attempts of one request (see <see cref="_delivered"/>).</param>
    public TransferWatchdog(TimeSpan idle, TimeSpan firstByte, TimeProvider clock, CancellationToken outer, Stage initial,
        ProgressBudget? budget = null, StrongBox<long>? delivered = null)
    {
        _budget = budget;
        _delivered = delivered ?? new StrongBox<long>();
        if (budget is not null)
        {
            budget.Begin();
            _inBudget = 1;
        }
        _cts = CancellationTokenSource.CreateLinkedTokenSource(outer);
        _clock = clock;
        _idle = idle;
        _firstByte = firstByte;
        _stage = initial;
        _lastActivity = clock.GetTimestamp();
        // Check a few times per shortest limit: a timeout fires at most a quarter late.
        var period = TimeSpan.FromMilliseconds(Math.Clamp(Math.Min(idle.TotalMilliseconds, firstByte.TotalMilliseconds) / 4, 20, 1000));
        _timer = clock.CreateTimer(_ => Check(), null, period, period);
    }

    /// <summary>Cancelled when a limit passes (or the caller cancels).</summary>
    public CancellationToken Token => _cts.Token;

    /// <summary>Which limit passed ("no response within 60 s (first_byte_timeout)"), or null.</summary>
    public string? Expired { get; private set; }

    /// <summary>True when what passed was the operation's <see cref="ProgressBudget"/>, not a limit of this attempt.</summary>
    public bool BudgetExpired { get; private set; }

    public void Activity() => Interlocked.Exchange(ref _lastActivity, _clock.GetTimestamp());

    /// <summary>Bytes received: activity for this attempt, progress for the operation.</summary>
    private void Received()
    {
        Activity();
        _budget?.Progress();
    }

    /// <summary>
    /// Request-body bytes count as progress once they have left this machine (read from the source
    /// minus what the socket still queues) and only beyond what an earlier attempt delivered. Before
    /// the request is on a connection (the SDK hashing the payload for SigV4) nothing is delivered.
    /// </summary>
    private void CountDelivered()
    {
        if (_budget is null || _connection is not { } connection) return;
        long delivered = Interlocked.Read(ref _bodyPosition) - (connection.Unsent() ?? 0);
        long seen = Interlocked.Read(ref _delivered.Value);
        while (delivered > seen)
        {
            long was = Interlocked.CompareExchange(ref _delivered.Value, delivered, seen);
            if (was == seen)
            {
                _budget.Progress();
                return;
            }
            seen = was;
        }
    }

    /// <summary>This attempt no longer waits on the network (its body was read to the end): time
    /// spent by the reader afterwards is not the operation's.</summary>
    private void LeaveBudget()
    {
        if (Interlocked.Exchange(ref _inBudget, 0) == 1) _budget!.End();
    }

    public void Enter(Stage stage)
    {
        _stage = stage;
        Activity();
    }

    /// <summary>The connection this request is being sent on.</summary>
    public void Carries(WatchedConnections.Connection connection) => _connection = connection;

    private void Check()
    {
        var stage = _stage;
        var limit = stage == Stage.AwaitingResponse ? _firstByte + TimeSpan.FromTicks(Interlocked.Read(ref _drainAllowanceTicks)) : _idle;
        if (stage != Stage.Receiving) CountDelivered();
        if (stage == Stage.AwaitingResponse && _connection?.Unsent() is { } unsent)
        {
            // The request is still leaving this machine: that is sending, judged by the idle limit;
            // the first-byte clock starts when the queue has drained.
            if (unsent != Interlocked.Exchange(ref _lastUnsent, unsent)) Activity();
            limit = unsent > 0 ? _idle : _firstByte;
            if (unsent > 0) stage = Stage.Sending;
        }
        var quiet = _clock.GetElapsedTime(Interlocked.Read(ref _lastActivity));
        bool budgetGone = _budget?.Exhausted == true;
        if ((quiet <= limit && !budgetGone) || Interlocked.Exchange(ref _expired, 1) != 0) return;
        BudgetExpired = budgetGone && quiet <= limit;
        Expired = BudgetExpired ? _budget!.Describe() : stage switch
        {
            Stage.AwaitingResponse => $"no response within {Quantities.Duration(limit)} (first_byte_timeout)",
            Stage.Sending => $"the server stopped reading the request for {Quantities.Duration(limit)} (idle_timeout)",
            _ => $"the server stopped sending for {Quantities.Duration(limit)} (idle_timeout)",
        };
        try { _cts.Cancel(); } catch (ObjectDisposedException) { }
        lock (_closeOnExpiry)
        {
            foreach (var d in _closeOnExpiry)
            {
                try { d.Dispose(); } catch { /* closing to unblock a read; errors do not matter */ }
            }
        }
    }

    /// <summary>A request body: reads are progress; its end means the request is sent (a rewind, as
    /// the SDK does after hashing the payload for SigV4, means it is being sent again).</summary>
    public Stream WatchRequestBody(Stream body) => new RequestBody(body, this);

    /// <summary>A response body read under the idle limit; disposing it disposes this watchdog.</summary>
    public Stream WatchResponseBody(Stream body)
    {
        Enter(Stage.Receiving);
        lock (_closeOnExpiry) _closeOnExpiry.Add(body);
        return new ResponseBody(body, this);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _timer.Dispose();
        _cts.Dispose();
        LeaveBudget();
    }

    private sealed class RequestBody(Stream inner, TransferWatchdog watchdog) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => inner.CanSeek;
        public override bool CanWrite => false;
        public override long Length => inner.Length;

        public override long Position
        {
            get => inner.Position;
            set { inner.Position = value; Interlocked.Exchange(ref watchdog._bodyPosition, value); watchdog.Enter(Stage.Sending); }
        }

        public override int Read(byte[] buffer, int offset, int count) => Account(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) =>
            Account(await inner.ReadAsync(buffer, ct));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

        private int Account(int n)
        {
            if (n == 0)
            {
                long sent = inner.CanSeek ? inner.Position : 0;
                Interlocked.Exchange(ref watchdog._drainAllowanceTicks, TimeSpan.FromSeconds((double)Math.Min(sent, DrainAllowanceCap) / SlowestLink).Ticks);
            }
            watchdog.Enter(n == 0 ? Stage.AwaitingResponse : Stage.Sending);
            Interlocked.Add(ref watchdog._bodyPosition, n);
            watchdog.CountDelivered();
            return n;
        }

        public override long Seek(long offset, SeekOrigin origin)
        {
            var p = inner.Seek(offset, origin);
            Interlocked.Exchange(ref watchdog._bodyPosition, p);
            watchdog.Enter(Stage.Sending);
            return p;
        }

        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }

    private sealed class ResponseBody(Stream inner, TransferWatchdog watchdog) : WrappingReadStream(inner)
    {
        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Inner.Read(buffer, offset, count);
            Account(n);
            return n;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            using var both = CancellationTokenSource.CreateLinkedTokenSource(ct, watchdog.Token);
            int n = await Inner.ReadAsync(buffer, both.Token);
            Account(n);
            return n;
        }

        private void Account(int n)
        {
            if (n > 0)
            {
                watchdog.Received();
                return;
            }
            watchdog._budget?.Settled();
            watchdog.LeaveBudget();
        }

        protected override void Dispose(bool disposing)
        {
            base.Dispose(disposing);
            if (disposing) watchdog.Dispose();
        }
    }
}
