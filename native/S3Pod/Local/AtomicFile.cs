using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace S3Pod.Local;

/// <summary>Small files (records, the manifest) replaced in one rename, so a reader sees the old
/// version or the new one, never half of either; and read back leniently where a damaged record
/// must only mean "not there".</summary>
internal static class AtomicFile
{
    public static void Write(string path, ReadOnlySpan<byte> bytes)
    {
        var dir = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(dir);
        TempFiles.RemoveStale(path);
        var temp = TempFiles.NewPath(path);
        try
        {
            using (var file = TempFiles.Create(temp))
            {
                file.Write(bytes);
                file.Flush(flushToDisk: false);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            try { File.Delete(temp); } catch { /* moved, or never created */ }
        }
    }

    public static void WriteJson<T>(string path, T value, JsonTypeInfo<T> type) =>
        Write(path, JsonSerializer.SerializeToUtf8Bytes(value, type));

    /// <summary>The record at <paramref name="path"/>, or null when it is absent, unreadable or not valid JSON of that type.</summary>
    public static T? TryReadJson<T>(string path, JsonTypeInfo<T> type) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), type);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or NotSupportedException)
        {
            return null;
        }
    }
}
