using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace S3Pod.Local;

/// <summary>
/// An exclusive advisory lock between processes: an open lock file with no sharing (flock on Unix,
/// a share-mode lock on Windows). The operating system releases it when the holder exits, however
/// it exits, so a killed download never leaves a lock behind. Waiting is bounded.
/// </summary>
internal static class FileLock
{
    /// <summary>How long to wait for another process's download of the same thing before giving up.</summary>
    public static readonly TimeSpan DefaultWait = TimeSpan.FromMinutes(10);

    /// <summary>The lock file for <paramref name="identity"/> in <paramref name="directory"/>: named by a
    /// digest, so any URI or asset name maps to one short, valid file name.</summary>
    public static string PathFor(string directory, string identity) =>
        Path.Combine(directory, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)))[..32] + ".lock");

    /// <summary>
    /// Takes the lock, waiting (bounded by <paramref name="wait"/>) only while another process holds
    /// it; a lock file that cannot be created or opened for any other reason (a read-only file system,
    /// a full disk, no permission) fails at once, since waiting would not help.
    /// </summary>
    /// <param name="what">What the lock protects, for messages.</param>
    /// <param name="waiting">Called once when the wait passes two seconds (to say who is waited for).</param>
    /// <param name="error">Builds the exception for a failure from its message (default: operational);
    /// the local object store makes it a storage error.</param>
    public static async Task<IDisposable> AcquireAsync(string path, string what, CancellationToken ct, TimeSpan? wait = null,
        Action? waiting = null, Func<string, Exception?, Exception>? error = null)
    {
        var limit = wait ?? DefaultWait;
        var fail = error ?? ((message, inner) => S3PodException.Operational(message, inner));
        var clock = Stopwatch.StartNew();
        bool told = false;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw fail($"cannot lock {what}: cannot create {Path.GetDirectoryName(path)}: {e.Message}", e);
        }
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (UnauthorizedAccessException e)
            {
                throw fail($"cannot lock {what}: {path} is not writable", e);
            }
            catch (IOException e) when (IsHeldElsewhere(e))
            {
                if (clock.Elapsed > limit)
                    throw fail($"another s3pod process has held the lock on {what} for over {Quantities.Duration(limit)} ({path}); giving up", e);
                if (!told && clock.Elapsed > TimeSpan.FromSeconds(2))
                {
                    waiting?.Invoke();
                    told = true;
                }
                await Task.Delay(Random.Shared.Next(5, 60), ct);
            }
            catch (IOException e)
            {
                throw fail($"cannot lock {what} ({path}): {e.Message}", e);
            }
        }
    }

    // Held by another process: EWOULDBLOCK from flock (the runtime reports errno as the HResult: 11 on
    // Linux, 35 on macOS), a sharing or lock violation on Windows (32, 33). Anything else (a read-only
    // file system, EROFS = 30; a full disk) will not go away by waiting.
    internal static bool IsHeldElsewhere(IOException e) =>
        (e.HResult & 0xFFFF) is 32 or 33 || e.HResult == (OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD() ? 35 : 11);
}
