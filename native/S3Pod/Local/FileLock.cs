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

    public static async Task<IDisposable> AcquireAsync(string path, string what, CancellationToken ct, TimeSpan? wait = null)
    {
        var limit = wait ?? DefaultWait;
        var clock = Stopwatch.StartNew();
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw S3PodException.Operational($"cannot lock {what}: cannot create {Path.GetDirectoryName(path)}: {e.Message}");
        }
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None);
            }
            catch (UnauthorizedAccessException)
            {
                throw S3PodException.Operational($"cannot lock {what}: {path} is not writable");
            }
            catch (IOException e) when (IsHeldElsewhere(e))
            {
                if (clock.Elapsed > limit)
                    throw S3PodException.Operational($"another s3pod process has held the lock on {what} for over {Config.Values.Describe(limit)} ({path}); giving up");
                await Task.Delay(Random.Shared.Next(10, 60), ct);
            }
            catch (IOException e)
            {
                throw S3PodException.Operational($"cannot lock {what} ({path}): {e.Message}");
            }
        }
    }

    // Held by another process: EWOULDBLOCK from flock (the runtime reports errno as the HResult: 11 on
    // Linux, 35 on macOS), a sharing or lock violation on Windows (32, 33). Anything else (a read-only
    // file system, EROFS = 30; a full disk) will not go away by waiting.
    private static bool IsHeldElsewhere(IOException e) =>
        (e.HResult & 0xFFFF) is 32 or 33 || e.HResult == (OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD() ? 35 : 11);
}
