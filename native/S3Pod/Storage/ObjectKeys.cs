using System.Text;

namespace S3Pod.Storage;

/// <summary>The one place that decides what a key may look like, for keys typed by users and for
/// the local store, where keys become paths.</summary>
internal static class ObjectKeys
{
    /// <summary>S3 limits a key to 1024 bytes of UTF-8, prefix included.</summary>
    public const int MaxBytes = 1024;

    /// <summary>Throws a usage error naming the problem, before any request is made.</summary>
    public static string Validate(string key, string prefix = "", string what = "key")
    {
        if (string.IsNullOrWhiteSpace(key)) throw S3PodException.Usage($"the {what} is empty");
        if (key.Any(char.IsControl)) throw S3PodException.Usage($"{what} '{Shorten(key)}' contains control characters");
        if (key.StartsWith('/') || key.EndsWith('/') || key.Contains("//", StringComparison.Ordinal) || key.Split('/').Any(s => s is "." or ".."))
            throw S3PodException.Usage($"{what} '{Shorten(key)}' is not valid: no leading or trailing '/', no empty, '.' or '..' segments");
        int bytes = Encoding.UTF8.GetByteCount(key) + Encoding.UTF8.GetByteCount(prefix);
        if (bytes > MaxBytes)
            throw S3PodException.Usage($"{what} is too long: {bytes} bytes with the prefix, S3 allows {MaxBytes}");
        return key;
    }

    /// <summary>A prefix for listing may end with '/' and may be empty; otherwise the same rules.</summary>
    public static string ValidatePrefix(string prefix, string what = "prefix")
    {
        if (prefix.Length == 0) return prefix;
        Validate(prefix.TrimEnd('/'), what: what);
        return prefix;
    }

    /// <summary>"a/b" → "a/b/"; "" stays "".</summary>
    public static string NormalizePrefix(string prefix)
    {
        var p = prefix.Trim('/');
        return p.Length == 0 ? "" : p + "/";
    }

    private static string Shorten(string key) => key.Length > 80 ? key[..77] + "..." : key.ReplaceLineEndings(" ");
}
