using S3Pod.Output;

namespace S3Pod.Transfers;

/// <summary>
/// The result of every transfer command (download, upload, dir upload/download, docker
/// upload/download). <see cref="Size"/> is always the stored object's size in bytes.
/// </summary>
/// <param name="Action">download, miss, upload, dir-upload, dir-download, docker-upload, docker-download, docker-pull.</param>
/// <param name="Source">Where the bytes came from on a download: cache, url, pull.</param>
/// <param name="Path">The local file or directory.</param>
/// <param name="SkippedReason">exists (was there before), created-meanwhile (a racing writer won).</param>
internal sealed record TransferResult(
    string Key,
    string Action,
    long Size,
    double Seconds,
    string? Sha256 = null,
    string? Source = null,
    string? Path = null,
    bool Skipped = false,
    string? SkippedReason = null,
    long? Files = null,
    long? UncompressedSize = null)
{
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsMiss => Action == "miss";

    public static TransferResult Skip(string key, string action, string? path, TimeSpan elapsed, bool meanwhile) =>
        new(key, action, 0, elapsed.TotalSeconds, Path: path, Skipped: true, SkippedReason: meanwhile ? "created-meanwhile" : "exists");

    /// <summary>An upload that did not happen because the key is there: it existed, or a racing writer
    /// created it first (create-only write lost). Both are a success, reported the same way by
    /// upload, dir upload and docker upload.</summary>
    public static TransferResult ReportSkipped(Reporter reporter, string key, string action, string? path, TimeSpan elapsed, bool meanwhile)
    {
        reporter.Info(meanwhile ? $"{key} was created meanwhile by another writer; skipping upload" : $"{key} exists; skipping upload (use --force to overwrite)");
        return Skip(key, action, path, elapsed, meanwhile);
    }
}
