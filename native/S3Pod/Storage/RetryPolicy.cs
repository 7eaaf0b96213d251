namespace S3Pod.Storage;

/// <summary>
/// How often and how patiently a failed request or body read is tried again: up to
/// <see cref="NetworkPolicy.Retries"/> more times, with exponential backoff and jitter that has a
/// floor, so a throttling server gets room (SlowDown and 503 start at 1 s, network failures at
/// 200 ms; each wait is between half and all of base × 2^(attempt-1), at most 15 s).
/// </summary>
internal sealed class RetryPolicy(NetworkPolicy network)
{
    private static readonly TimeSpan NetworkBase = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan ThrottleBase = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Cap = TimeSpan.FromSeconds(15);

    /// <summary>Total tries, the first included.</summary>
    public int Attempts => network.Retries + 1;

    public NetworkPolicy Network => network;

    /// <summary>The wait after the <paramref name="attempt"/>-th failure.</summary>
    public static TimeSpan Delay(int attempt, bool throttled)
    {
        var ceiling = Math.Min(Cap.TotalMilliseconds, (throttled ? ThrottleBase : NetworkBase).TotalMilliseconds * Math.Pow(2, Math.Max(0, attempt - 1)));
        return TimeSpan.FromMilliseconds(ceiling * (0.5 + Random.Shared.NextDouble() / 2));
    }
}
