using S3Pod.Streams;

namespace S3Pod.Storage;

/// <summary>Everything needed to reach one bucket. Secrets stay in <see cref="Credentials"/> and are never formatted.</summary>
internal sealed record S3Target(string? Endpoint, string Region, string Bucket, string Prefix, StaticCredentials? Credentials);

/// <summary>An access key pair that s3pod resolved itself (env, key files); null means the AWS default chain.</summary>
internal sealed record StaticCredentials(string KeyId, string Secret)
{
    public override string ToString() => $"StaticCredentials({KeyId[..Math.Min(4, KeyId.Length)]}…)";
}

/// <summary>How long to wait and how often to retry. Every network wait is bounded by one of these.</summary>
/// <param name="ConnectTimeout">Establishing a TCP/TLS connection.</param>
/// <param name="FirstByteTimeout">From a request fully sent to the first byte of its response.</param>
/// <param name="IdleTimeout">No byte moving in either direction while a body is sent or received.</param>
/// <param name="Retries">Attempts after the first for a failed request or body read.</param>
internal sealed record NetworkPolicy(TimeSpan ConnectTimeout, TimeSpan FirstByteTimeout, TimeSpan IdleTimeout, int Retries)
{
    public static readonly TimeSpan DefaultOperationTimeout = TimeSpan.FromSeconds(120);

    public static readonly NetworkPolicy Default = new(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(30), 5);

    /// <summary>The most an operation may go without progress, over all its requests, attempts and
    /// backoff waits (<see cref="ProgressBudget"/>): retries × first_byte_timeout would be six minutes.</summary>
    public TimeSpan OperationTimeout { get; init; } = DefaultOperationTimeout;

    public static readonly TimeSpan DefaultRevalidateTimeout = TimeSpan.FromSeconds(15);

    /// <summary>The most a check of a cached copy may take when that copy could serve instead
    /// (<see cref="RevalidateAsync{T}"/>): a silent store must not hold a read the cache can answer.</summary>
    public TimeSpan RevalidateTimeout { get; init; } = DefaultRevalidateTimeout;

    /// <summary>
    /// Runs a revalidation under <paramref name="timeout"/> (<see cref="RevalidateTimeout"/>). When
    /// it passes, it fails as the store being unreachable (<see cref="StorageFailure.Timeout"/>),
    /// which is what lets the caller serve its stale copy with a warning.
    /// </summary>
    public static async Task<T> RevalidateAsync<T>(TimeSpan timeout, string what, Func<CancellationToken, Task<T>> check, CancellationToken ct)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        try
        {
            return await check(limit.Token);
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new StorageException(StorageFailure.Timeout, $"{what}: no answer within {Quantities.Duration(timeout)} (revalidate_timeout)", e);
        }
    }
}
