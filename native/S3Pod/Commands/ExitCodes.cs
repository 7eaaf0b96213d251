namespace S3Pod.Commands;

/// <summary>
/// The exit codes are a contract with scripts and with the CI wrappers (README, exit codes); never
/// return a bare number from a command. Only the command layer knows them: services report a
/// <see cref="FailureKind"/> or a result, and <see cref="For"/> maps kinds to codes.
/// </summary>
internal static class ExitCodes
{
    /// <summary>The command did what was asked (a skipped upload of an existing key included).</summary>
    public const int Success = 0;
    /// <summary>Not there: <c>exists</c> answered false, or the object, artifact, version or alias to act on is missing.</summary>
    public const int NotFound = 1;
    /// <summary>Credentials, network, timeout, permission, bad usage, bad config: the message names the cause.</summary>
    public const int OperationalError = 2;
    /// <summary>A download or restore missed and no fallback (URL, --pull) was given.</summary>
    public const int CacheMiss = 3;
    /// <summary>A conditional write lost where losing is an error, or an --expect that does not hold.</summary>
    public const int Conflict = 4;
    /// <summary>Digest mismatch, corrupt, truncated or malicious archive.</summary>
    public const int Integrity = 5;
    /// <summary>The store cannot be reached and nothing usable is cached locally (assets).</summary>
    public const int Offline = 6;

    public static int For(FailureKind kind) => kind switch
    {
        FailureKind.NotFound => NotFound,
        FailureKind.Conflict => Conflict,
        FailureKind.Integrity => Integrity,
        FailureKind.Offline => Offline,
        _ => OperationalError,
    };
}
