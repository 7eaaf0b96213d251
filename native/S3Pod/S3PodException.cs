namespace S3Pod;

/// <summary>
/// The one error type whose message is shown to the user, as a single line, with the exit code it
/// carries. Anything else that escapes a command is a bug and is reported as such.
/// Messages name the problem (the flag, the file, the key) and never contain secrets.
/// </summary>
internal sealed class S3PodException(int exitCode, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;

    public static S3PodException Usage(string message) => new(ExitCodes.OperationalError, message);
    public static S3PodException Operational(string message, Exception? inner = null) => new(ExitCodes.OperationalError, message, inner);
    public static S3PodException NotFound(string message) => new(ExitCodes.NotFound, message);
    public static S3PodException Conflict(string message) => new(ExitCodes.Conflict, message);
    public static S3PodException Integrity(string message) => new(ExitCodes.Integrity, message);
}
