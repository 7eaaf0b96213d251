
namespace S3Pod.Streams;

/// <summary>
/// The no-progress deadline of a whole operation, across its requests, attempts and backoff waits:
/// the per-attempt limits alone let a dead server hold a command for retries × first-byte timeout
/// (six minutes with the defaults). What counts is time spent waiting on the network without a
/// byte moving: the silence of the attempt in progress plus the silences that ended earlier
/// attempts of unfinished work. A server that sends a few bytes on every attempt and then stalls
/// still uses it up; a request answered or a body read to its end (<see cref="Settled"/>) gives it
/// back whole. Time spent with no request under way (local work such as packing an archive) never
/// counts.
/// </summary>
internal sealed class ProgressBudget(TimeSpan limit, TimeProvider clock)
{
    private readonly object _gate = new();
    private int _active;
    // The last byte or the start of the current stretch under way, and the silence of earlier attempts.
    private long _since = clock.GetTimestamp();
    private TimeSpan _spent;

    public TimeSpan Limit => limit;

    /// <summary>A request starts (its watchdog is created).</summary>
    public void Begin()
    {
        lock (_gate)
        {
            if (_active++ == 0) _since = clock.GetTimestamp();
        }
    }

    /// <summary>A request is over or no longer waits (its watchdog is disposed, its body read to the end).</summary>
    public void End()
    {
        lock (_gate)
        {
            if (_active == 0) return;
            if (--_active == 0) _spent += clock.GetElapsedTime(_since);
        }
    }

    /// <summary>Bytes moved: the silence in progress is over (earlier attempts' silences still count).</summary>
    public void Progress()
    {
        lock (_gate)
        {
            _since = clock.GetTimestamp();
        }
    }

    /// <summary>A request was answered or a body read to its end: the whole budget is available again.</summary>
    public void Settled()
    {
        lock (_gate)
        {
            _spent = TimeSpan.Zero;
            _since = clock.GetTimestamp();
        }
    }

    /// <summary>Time spent waiting without progress.</summary>
    public TimeSpan Quiet
    {
        get
        {
            lock (_gate) return _spent + (_active > 0 ? clock.GetElapsedTime(_since) : TimeSpan.Zero);
        }
    }

    public bool Exhausted => Quiet >= limit;

    /// <summary>Whether waiting <paramref name="delay"/> before another attempt would pass the deadline.</summary>
    public bool WouldPass(TimeSpan delay) => Quiet + delay >= limit;

    /// <summary>For messages: "no progress for 2 min (operation_timeout)". Giving up because the next
    /// backoff would pass the deadline is reported as the deadline.</summary>
    public string Describe() => $"no progress for {Quantities.Duration(limit)} (operation_timeout)";
}
