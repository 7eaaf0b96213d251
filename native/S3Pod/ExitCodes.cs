namespace S3Pod;

/// <summary>
/// The exit codes are a contract shared with ci-cacher's users and with the CI wrappers; never
/// return a bare number from a command.
/// </summary>
internal static class ExitCodes
{
    /// <summary>The command did what was asked (a skipped upload of an existing key included).</summary>
    public const int Success = 0;
    /// <summary>The key is not there: <c>exists</c> answered false, or the object to act on is missing.</summary>
    public const int NotFound = 1;
    /// <summary>Credentials, network, permission, bad usage, bad config: the message names the cause.</summary>
    public const int OperationalError = 2;
    /// <summary>A download or restore missed and no fallback (URL, --pull) was given.</summary>
    public const int CacheMiss = 3;
    /// <summary>A conditional write lost: the version exists, the precondition failed.</summary>
    public const int Conflict = 4;
    /// <summary>Digest mismatch, corrupt, truncated or malicious archive.</summary>
    public const int Integrity = 5;
}
