namespace S3Pod.Cache;

/// <summary>
/// Where save/restore caches live in the store:
/// <code>
/// caches/&lt;scope&gt;/&lt;key&gt;/&lt;version&gt;.tzst       the tar.zst archive (create-only)
/// caches/&lt;scope&gt;/&lt;key&gt;/&lt;version&gt;.json       its manifest (paths, files, sizes, sha256)
/// caches-used/&lt;scope&gt;/&lt;key&gt;/&lt;version&gt;       touched by each restore: last use, for prune
/// </code>
/// The scope is URL-escaped into one segment (<c>refs%2Fheads%2Fmain</c>), so one scope's listing never
/// reaches into another's; the version is the digest of the path list, so caches saved with other
/// paths never match.
/// </summary>
internal static class CacheLayout
{
    public const string Root = "caches/";
    public const string UsedRoot = "caches-used/";
    public const string ArchiveSuffix = ".tzst";
    public const string DefaultScope = "default";

    public static string Scope(string? scope) => Uri.EscapeDataString(string.IsNullOrEmpty(scope) ? DefaultScope : scope);

    public static string ScopePrefix(string? scope) => Root + Scope(scope) + "/";

    public static string Archive(string? scope, string key, string version) => $"{ScopePrefix(scope)}{key}/{version}{ArchiveSuffix}";

    public static string Manifest(string? scope, string key, string version) => $"{ScopePrefix(scope)}{key}/{version}.json";

    public static string Used(string? scope, string key, string version) => $"{UsedRoot}{Scope(scope)}/{key}/{version}";

    /// <summary>Splits an archive object name into (scope, key, version); null for anything else.</summary>
    public static (string Scope, string Key, string Version)? Parse(string objectKey)
    {
        if (!objectKey.StartsWith(Root, StringComparison.Ordinal) || !objectKey.EndsWith(ArchiveSuffix, StringComparison.Ordinal)) return null;
        var rest = objectKey[Root.Length..^ArchiveSuffix.Length];
        var firstSlash = rest.IndexOf('/');
        var lastSlash = rest.LastIndexOf('/');
        if (firstSlash < 0 || lastSlash <= firstSlash) return null;
        return (Uri.UnescapeDataString(rest[..firstSlash]), rest[(firstSlash + 1)..lastSlash], rest[(lastSlash + 1)..]);
    }
}
