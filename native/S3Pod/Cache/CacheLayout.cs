namespace S3Pod.Cache;

/// <summary>
/// Where save/restore caches live in the store:
/// <code>
/// caches/&lt;scope&gt;/&lt;key&gt;/&lt;version&gt;.json              manifest: the commit point (create-only); names its archive
/// caches/&lt;scope&gt;/&lt;key&gt;/&lt;version&gt;.&lt;writer&gt;.tzst     the archive of one save (each writer its own name)
/// caches/&lt;scope&gt;/&lt;key&gt;/&lt;version&gt;.tzst              the archive of a 1.0 save (read, never written now)
/// caches-used/&lt;scope&gt;/&lt;key&gt;/&lt;version&gt;              touched by each restore: last use, for prune
/// </code>
/// The scope is URL-escaped into one segment (<c>refs%2Fheads%2Fmain</c>), so one scope's listing never
/// reaches into another's; the version is the digest of the path list, so caches saved with other
/// paths never match. Because every writer uploads its archive under its own name and the small
/// manifest is written last and create-only, two jobs saving one key at once can never leave a
/// manifest that describes another job's archive, whatever the server does with conditional
/// multipart uploads.
/// </summary>
internal static class CacheLayout
{
    public const string Root = "caches/";
    public const string UsedRoot = "caches-used/";
    public const string ArchiveSuffix = ".tzst";
    public const string ManifestSuffix = ".json";
    public const string DefaultScope = "default";

    public static string Scope(string? scope) => Uri.EscapeDataString(string.IsNullOrEmpty(scope) ? DefaultScope : scope);

    public static string ScopePrefix(string? scope) => Root + Scope(scope) + "/";

    public static string EntryPrefix(string? scope, string key, string version) => $"{ScopePrefix(scope)}{key}/{version}.";

    public static string Manifest(string? scope, string key, string version) => $"{ScopePrefix(scope)}{key}/{version}{ManifestSuffix}";

    /// <summary>The archive of one save; <paramref name="writer"/> null is the 1.0 name.</summary>
    public static string Archive(string? scope, string key, string version, string? writer) =>
        writer is null ? $"{ScopePrefix(scope)}{key}/{version}{ArchiveSuffix}" : $"{ScopePrefix(scope)}{key}/{version}.{writer}{ArchiveSuffix}";

    public static string Used(string? scope, string key, string version) => $"{UsedRoot}{Scope(scope)}/{key}/{version}";

    /// <summary>What an object under <see cref="Root"/> is.</summary>
    internal readonly record struct Name(string Scope, string Key, string Version, bool IsManifest, string? Writer);

    /// <summary>Splits an object name into its parts; null for anything that is not a manifest or an archive.</summary>
    public static Name? Parse(string objectKey)
    {
        if (!objectKey.StartsWith(Root, StringComparison.Ordinal)) return null;
        var rest = objectKey[Root.Length..];
        var firstSlash = rest.IndexOf('/');
        var lastSlash = rest.LastIndexOf('/');
        if (firstSlash < 0 || lastSlash <= firstSlash) return null;
        var scope = Uri.UnescapeDataString(rest[..firstSlash]);
        var key = rest[(firstSlash + 1)..lastSlash];
        var file = rest[(lastSlash + 1)..];
        if (file.EndsWith(ManifestSuffix, StringComparison.Ordinal))
            return new Name(scope, key, file[..^ManifestSuffix.Length], true, null);
        if (!file.EndsWith(ArchiveSuffix, StringComparison.Ordinal)) return null;
        var stem = file[..^ArchiveSuffix.Length];
        var dot = stem.IndexOf('.');
        return dot < 0 ? new Name(scope, key, stem, false, null) : new Name(scope, key, stem[..dot], false, stem[(dot + 1)..]);
    }
}
