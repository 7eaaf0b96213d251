using System.Text.Json;
using S3Pod.Storage;

namespace S3Pod.Cache;

/// <summary>
/// Says why a restore missed, from one listing of the cache entries: the same key saved with other
/// paths, the same key in a scope this restore does not read, restore keys that matched nothing
/// (or only entries of other paths), and the entries whose keys come nearest to the one asked for.
/// An image entry's "paths" are its image: the same key saved for another image is explained alike.
/// </summary>
internal sealed class MissExplainer(IObjectStore store)
{
    // A miss in a huge bucket must not turn into a long listing: explain from the first entries.
    private const int MaxListed = 5000;
    private const int MaxNearest = 3;

    private sealed record Listed(CacheLayout.Name Name, ObjectInfo Object);

    public Task<MissExplanation> ExplainAsync(RestoreRequest request, CachePaths paths, CancellationToken ct) =>
        ExplainAsync(request, paths.Version, paths.Specs, null, ct);

    /// <param name="image">An image restore: the image asked for (<paramref name="specs"/> is then empty).</param>
    public async Task<MissExplanation> ExplainAsync(RestoreRequest request, string version, IReadOnlyList<string> specs, string? image, CancellationToken ct)
    {
        string asked = image is null ? Describe(specs) : $"image {image}";
        string mustMatch = image is null ? "the path list must match exactly, as in actions/cache" : "an image entry matches only the same image reference";
        var searched = new List<string> { request.Scope ?? CacheLayout.DefaultScope };
        foreach (var s in request.FallbackScopes) if (!searched.Contains(s)) searched.Add(s);
        var all = new List<Listed>();
        bool truncated = false;
        await foreach (var o in store.ListAsync(CacheLayout.Root, ct))
        {
            if (CacheLayout.Parse(o.Key) is not { IsManifest: true } name) continue;
            if (all.Count == MaxListed) { truncated = true; break; }
            all.Add(new Listed(name, o));
        }

        var reasons = new List<string>();
        var nearest = new List<NearEntry>();
        string scopesText = string.Join(", ", searched);
        if (all.Count == 0)
            return new MissExplanation("the store holds no cache entries yet (the first save creates one)", [$"searched scopes: {scopesText}"], []);

        bool InSearched(Listed e) => searched.Contains(e.Name.Scope);
        var otherPaths = all.Where(e => InSearched(e) && e.Name.Key == request.Key && e.Name.Version != version).Take(MaxNearest).ToList();
        foreach (var e in otherPaths)
        {
            var saved = await ManifestOfAsync(e, ct);
            reasons.Add($"{request.Key} exists in scope {e.Name.Scope} but was saved with other {(saved?.Image is null ? "paths" : "content")} ({Describe(saved)}; this restore asks for {asked}): {mustMatch}");
            nearest.Add(Near(e, saved, [$"{(saved?.Image is null && image is null ? "paths" : "content")}: saved {Describe(saved)}, asked {asked}"]));
        }

        var otherScopes = all.Where(e => !InSearched(e) && e.Name.Key == request.Key && e.Name.Version == version).Take(MaxNearest).ToList();
        foreach (var e in otherScopes)
        {
            reasons.Add($"{request.Key} exists in scope {e.Name.Scope}, which this restore does not read (it reads: {scopesText})");
            nearest.Add(Near(e, await ManifestOfAsync(e, ct), [$"scope: {e.Name.Scope} is not among {scopesText}"]));
        }

        if (otherPaths.Count == 0 && otherScopes.Count == 0)
            reasons.Add($"no entry has the key {request.Key} in scopes {scopesText}");
        foreach (var prefix in request.RestoreKeys)
        {
            var matches = all.Where(e => InSearched(e) && e.Name.Key.StartsWith(prefix, StringComparison.Ordinal)).ToList();
            if (matches.Count == 0) reasons.Add($"restore key '{prefix}' matched no entry in scopes {scopesText}");
            else if (matches.All(e => e.Name.Version != version))
                reasons.Add($"restore key '{prefix}' matched {matches.Count} entr{(matches.Count == 1 ? "y" : "ies")} (e.g. {matches[0].Name.Key}), all saved with other {(image is null ? "paths" : "content (paths or another image)")}");
        }

        // The nearest keys: longest common prefix with the key asked for, same paths, searched scopes.
        var shown = nearest.Select(n => (n.Scope, n.Key)).ToHashSet();
        foreach (var e in all.Where(e => InSearched(e) && e.Name.Version == version && e.Name.Key != request.Key && !shown.Contains((e.Name.Scope, e.Name.Key)))
                     .OrderByDescending(e => CommonPrefix(e.Name.Key, request.Key)).ThenByDescending(e => e.Object.LastModified).Take(MaxNearest))
        {
            int common = CommonPrefix(e.Name.Key, request.Key);
            nearest.Add(Near(e, await ManifestOfAsync(e, ct),
                [$"key differs from character {common + 1}: '{Excerpt(e.Name.Key, common)}' vs '{Excerpt(request.Key, common)}'"]));
        }
        if (truncated) reasons.Add($"(explained from the first {MaxListed} entries of the store)");

        var summary = otherPaths.Count > 0 ? $"the key exists but was saved with other {(image is null ? "paths" : "content")}"
            : otherScopes.Count > 0 ? "the key exists only in a scope this restore does not read"
            : request.RestoreKeys.Count > 0 ? "no entry has this key, and no restore key matched"
            : "no entry has this key";
        return new MissExplanation(summary, reasons, nearest);
    }

    private static NearEntry Near(Listed e, CacheManifest? manifest, IReadOnlyList<string> differences) =>
        new(e.Name.Scope, e.Name.Key, manifest?.Image is null ? manifest?.Paths : null, e.Object.LastModified, differences, manifest?.Image);

    private async Task<CacheManifest?> ManifestOfAsync(Listed e, CancellationToken ct)
    {
        try
        {
            await using var opened = await store.OpenReadAsync(e.Object.Key, ReadOptions.Default, ct);
            if (opened is null) return null;
            return await JsonSerializer.DeserializeAsync(opened.Content, CacheJson.Default.CacheManifest, ct);
        }
        catch (Exception x) when (x is JsonException or StorageException)
        {
            return null;
        }
    }

    private static string Describe(IReadOnlyList<string>? paths) => paths is null ? "unknown paths" : "[" + string.Join(", ", paths) + "]";

    private static string Describe(CacheManifest? saved) => saved?.Image is { } image ? $"image {image}" : Describe(saved?.Paths);

    private static int CommonPrefix(string a, string b)
    {
        int i = 0;
        while (i < a.Length && i < b.Length && a[i] == b[i]) i++;
        return i;
    }

    private static string Excerpt(string key, int from)
    {
        int start = Math.Max(0, from - 8);
        var text = key[start..Math.Min(key.Length, from + 16)];
        return (start > 0 ? "…" : "") + text + (from + 16 < key.Length ? "…" : "");
    }
}
