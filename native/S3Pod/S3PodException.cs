namespace S3Pod;

/// <summary>What went wrong, in the product's terms. The command layer turns a kind into an exit
/// code (Commands/ExitCodes.cs); nothing below it knows the numbers.</summary>
internal enum FailureKind
{
    /// <summary>Bad flags, arguments or configuration.</summary>
    Usage,
    /// <summary>Credentials, network, timeout, permission, a server lacking a needed capability.</summary>
    Operational,
    /// <summary>The named thing (object, artifact, version, alias) does not exist.</summary>
    NotFound,
    /// <summary>A conditional write lost where losing is an error; an expectation that does not hold.</summary>
    Conflict,
    /// <summary>Digest mismatch, corrupt, truncated or malicious content.</summary>
    Integrity,
    /// <summary>The store cannot be reached and nothing usable is cached locally.</summary>
    Offline,
}

/// <summary>
/// The one error type whose message is shown to the user, as a single line. Anything else that
/// escapes a command is a bug and is reported as such. Messages name the problem (the flag, the
/// file, the key) and never contain secrets.
/// </summary>
internal class S3PodException(FailureKind kind, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public FailureKind Kind { get; } = kind;

    public static S3PodException Usage(string message) => new(FailureKind.Usage, message);
    public static S3PodException Operational(string message, Exception? inner = null) => new(FailureKind.Operational, message, inner);
    public static S3PodException NotFound(string message) => new(FailureKind.NotFound, message);
    public static S3PodException Conflict(string message) => new(FailureKind.Conflict, message);
    public static S3PodException Integrity(string message) => new(FailureKind.Integrity, message);
    public static S3PodException Offline(string message, Exception? inner = null) => new(FailureKind.Offline, message, inner);
}
