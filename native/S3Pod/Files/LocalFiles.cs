using System.Security.Cryptography;
using S3Pod.Archive;

namespace S3Pod.Files;

/// <summary>
/// Reading files to upload and writing files that were downloaded, with the failure modes made
/// explicit: a source must be a regular file whose content holds still while it is read; a
/// destination is written beside itself and renamed into place only after its check passed.
/// </summary>
internal static class LocalFiles
{
    /// <summary>A regular file opened for upload, with the size and digest of its content.</summary>
    internal sealed record Source(string Path, FileStream Stream, long Length, string Sha256);

    /// <summary>
    /// Opens <paramref name="path"/> for upload and hashes it (S3 takes the sha256 metadata before the
    /// body, so it is computed first). Refuses, with one line naming the path, what cannot be uploaded
    /// faithfully: directories, pipes and FIFOs (they block or can be read once), devices (/dev/zero
    /// never ends), sockets, symlink loops, and files whose reported size is not their content
    /// (/proc). The caller re-reads through a check of this length and digest, so a file that changes
    /// during the upload fails it instead of storing bytes that do not match their digest.
    /// </summary>
    public static async Task<Source> OpenSourceAsync(IFileSystem fileSystem, string path, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(path)) throw S3PodException.Usage("the file to upload is an empty argument");
        CheckRegularFile(fileSystem, path);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw S3PodException.Usage($"cannot read {path}: no such file");
        }
        catch (UnauthorizedAccessException)
        {
            throw S3PodException.Usage($"cannot read {path}: permission denied");
        }
        catch (IOException e)
        {
            throw S3PodException.Usage($"cannot read {path}: {e.Message}");
        }
        try
        {
            long length = stream.Length;
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[1 << 20];
            long read = 0;
            int n;
            while ((n = await stream.ReadAsync(buffer, ct)) > 0)
            {
                hash.AppendData(buffer, 0, n);
                read += n;
            }
            if (read != length || stream.Length != length)
                throw S3PodException.Operational(length == 0 && read > 0
                    ? $"{path} reports a size of 0 but has content (a /proc-like file): copy it to a regular file first"
                    : $"{path} changed while it was being read ({read} bytes read, {length} reported); nothing was uploaded");
            stream.Position = 0;
            return new Source(path, stream, length, Convert.ToHexStringLower(hash.GetHashAndReset()));
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }
    }

    /// <summary>Refuses what is not a regular file (see <see cref="OpenSourceAsync"/>) without opening it:
    /// opening a FIFO would block until a writer appears.</summary>
    public static void CheckRegularFile(IFileSystem fileSystem, string path)
    {
        string target = path;
        if (new FileInfo(path).LinkTarget is null && !File.Exists(path) && !Directory.Exists(path))
            throw S3PodException.Usage($"cannot read {path}: no such file");
        try
        {
            // Follows the whole chain; a loop ends in an IOException ("Too many levels of symbolic links").
            if (File.ResolveLinkTarget(path, returnFinalTarget: true) is { } final) target = final.FullName;
        }
        catch (IOException e)
        {
            throw S3PodException.Usage($"cannot read {path}: {e.Message}");
        }
        if (Directory.Exists(target)) throw S3PodException.Usage($"{path} is a directory (use `s3pod dir upload`)");
        if (!fileSystem.TryGetInfo(target, out var info)) throw S3PodException.Usage($"cannot read {path}: no such file");
        if (info.Kind != EntryKind.Regular)
            throw S3PodException.Usage($"{path} is not a regular file (a pipe, FIFO, device or socket); s3pod uploads regular files (write the data to a file first)");
    }

    /// <summary>
    /// Streams <paramref name="content"/> into a temp file next to <paramref name="destPath"/>,
    /// hashing on the way; <paramref name="check"/> (digest, size) runs before the rename, so a failed
    /// check — or any failure — leaves the destination as it was and no temp file behind.
    /// </summary>
    public static async Task<string> WriteVerifiedAsync(Stream content, string destPath, CancellationToken ct, Action<string, long> check)
    {
        var dir = Path.GetDirectoryName(destPath)!;
        try
        {
            Directory.CreateDirectory(dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw S3PodException.Operational($"cannot create {dir}: {e.Message}");
        }
        // What killed runs left beside this destination (a SIGKILLed download leaves the full size).
        Local.TempFiles.RemoveStale(destPath);
        var temp = Local.TempFiles.NewPath(destPath);
        // Errors of the content stream (the network) pass through as they are; only the local file's
        // own failures are reported as "cannot write".
        bool readingContent = false;
        try
        {
            using var hasher = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long size = 0;
            await using (var file = Local.TempFiles.Create(temp, 1 << 20, FileOptions.Asynchronous))
            {
                var buffer = new byte[1 << 20];
                while (true)
                {
                    readingContent = true;
                    int n = await content.ReadAsync(buffer, ct);
                    readingContent = false;
                    if (n == 0) break;
                    hasher.AppendData(buffer, 0, n);
                    await file.WriteAsync(buffer.AsMemory(0, n), ct);
                    size += n;
                }
            }
            var hash = Convert.ToHexStringLower(hasher.GetHashAndReset());
            check(hash, size);
            File.Move(temp, destPath, overwrite: true);
            return hash;
        }
        catch (IOException e) when (!readingContent && IsDiskFull(e))
        {
            throw S3PodException.Operational($"disk full while writing {destPath}; nothing was left behind");
        }
        catch (IOException e) when (!readingContent)
        {
            throw S3PodException.Operational($"cannot write {destPath}: {e.Message}");
        }
        catch (UnauthorizedAccessException) when (!readingContent)
        {
            throw S3PodException.Operational($"cannot write {destPath}: permission denied");
        }
        finally
        {
            try { File.Delete(temp); } catch { /* already moved or never created */ }
        }
    }

    // ENOSPC is 28 on Linux and macOS (the runtime reports errno as the HResult there);
    // ERROR_DISK_FULL / ERROR_HANDLE_DISK_FULL on Windows.
    private const int ENOSPC = 28;
    private static bool IsDiskFull(IOException e) =>
        e.HResult == ENOSPC || (e.HResult & 0xFFFF) is 0x70 or 0x27;
}
