namespace S3Pod.Storage;

/// <summary>Why a store operation failed, for callers that decide differently per cause (an asset
/// served stale when the store is unreachable, a restore that misses when its entry vanished).</summary>
internal enum StorageFailure
{
    /// <summary>No connection could be made, or it broke and retrying did not help.</summary>
    Unreachable,
    /// <summary>A connect, first-byte or idle timeout expired (after retries).</summary>
    Timeout,
    /// <summary>The credentials were rejected or none were found.</summary>
    Credentials,
    /// <summary>The credentials are fine but the operation is not allowed.</summary>
    AccessDenied,
    MissingBucket,
    /// <summary>The server kept answering SlowDown / 503 through every retry.</summary>
    Throttled,
    /// <summary>The server answered an error that is not the client's fault (5xx) through every retry.</summary>
    Server,
    /// <summary>The server refused the request as invalid (4xx other than the above).</summary>
    Rejected,
    /// <summary>The server lacks what the operation needs (a conditional write it does not enforce).</summary>
    Unsupported,
    /// <summary>The object was replaced or deleted while it was being read.</summary>
    Changed,
    /// <summary>A local store could not read or write its directory.</summary>
    LocalIO,
}

/// <summary>A store operation failed; the message is one line naming the object and the cause.</summary>
internal sealed class StorageException(StorageFailure failure, string message, Exception? inner = null)
    : S3PodException(FailureKind.Operational, message, inner)
{
    public StorageFailure Failure { get; } = failure;

    /// <summary>The store could not be reached at all (as opposed to refusing or failing a request).</summary>
    public bool IsUnreachable => Failure is StorageFailure.Unreachable or StorageFailure.Timeout;
}
