namespace S3Pod.Assets;

/// <summary>An object named by <c>s3://bucket/key</c>, or a bucket or prefix (<see cref="Key"/> empty)
/// when it declares immutable storage. The key is kept exactly as written: S3 keys may hold
/// characters a path may not, and the object cache maps them itself.</summary>
internal sealed record S3Uri(string Bucket, string Key)
{
    public const string Scheme = "s3://";

    public static bool Looks(string text) => text.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses an object URI (a key is required), naming the problem and <paramref name="what"/> on failure.</summary>
    public static S3Uri Parse(string text, string what = "URI") => ParseAny(text, what, keyRequired: true);

    /// <summary>Parses <c>s3://bucket</c> or <c>s3://bucket/prefix</c> (a trailing '/' is dropped).</summary>
    public static S3Uri ParsePrefix(string text, string what) => ParseAny(text.TrimEnd('/'), what, keyRequired: false);

    private static S3Uri ParseAny(string text, string what, bool keyRequired)
    {
        if (!Looks(text)) throw S3PodException.Usage($"{what} '{Shorten(text)}' is not an s3://bucket/key URI");
        var rest = text[Scheme.Length..];
        int slash = rest.IndexOf('/');
        var bucket = slash < 0 ? rest : rest[..slash];
        var key = slash < 0 ? "" : rest[(slash + 1)..];
        if (!ValidBucket(bucket)) throw S3PodException.Usage($"{what} '{Shorten(text)}': '{bucket}' is not a valid bucket name (3-63 lower-case letters, digits, '.' and '-')");
        if (keyRequired && key.Length == 0) throw S3PodException.Usage($"{what} '{Shorten(text)}' names a bucket, not an object");
        if (key.Any(char.IsControl)) throw S3PodException.Usage($"{what} '{Shorten(text)}' contains control characters");
        if (System.Text.Encoding.UTF8.GetByteCount(key) > Storage.ObjectKeys.MaxBytes) throw S3PodException.Usage($"{what} '{Shorten(text)}': the key is longer than S3 allows ({Storage.ObjectKeys.MaxBytes} bytes)");
        return new S3Uri(bucket, key);
    }

    private static bool ValidBucket(string b) =>
        b.Length is >= 3 and <= 63 && char.IsAsciiLetterOrDigit(b[0]) && char.IsAsciiLetterOrDigit(b[^1])
        && b.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '-');

    /// <summary>For a bucket or prefix: whether <paramref name="uri"/> lies under it. Prefixes match
    /// whole path segments, so <c>s3://b/models</c> covers <c>models/x</c> but not <c>models-old/x</c>.</summary>
    public bool Covers(S3Uri uri) =>
        uri.Bucket == Bucket && (Key.Length == 0 || uri.Key == Key || uri.Key.StartsWith(Key + "/", StringComparison.Ordinal));

    public override string ToString() => Key.Length == 0 ? Scheme + Bucket : $"{Scheme}{Bucket}/{Key}";

    private static string Shorten(string s) => s.Length > 120 ? s[..117] + "..." : s;
}
