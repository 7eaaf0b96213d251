using S3Pod.Archive;

namespace S3Pod.Artifacts;

/// <summary>The rules for artifact and alias names, checked before any request is made.</summary>
internal static class ArtifactNames
{
    public const int MaxNameLength = 200;
    public const int MaxAliasLength = 100;

    /// <summary>
    /// An artifact name, which is also an asset's name: segments of <c>[A-Za-z0-9._-]</c> joined by
    /// '/'. A leading '/' is dropped (manifest paths are rooted); no segment is '.' or '..' or starts
    /// with '_', which the layout keeps for itself (so <c>artifacts/a/b/_…</c> always belongs to
    /// <c>a/b</c>, never to a nested name). <paramref name="error"/> words the refusal for the caller
    /// (an asset spec names the spec); by default it names the artifact.
    /// </summary>
    public static string Validate(string name, Func<string, S3PodException>? error = null)
    {
        var n = name.StartsWith('/') ? name[1..] : name;
        if (Problem(n) is not { } why) return n;
        throw error?.Invoke(why)
            ?? S3PodException.Usage(n.Length == 0 ? "the artifact name is empty" : $"artifact name {EntryNames.Quote(n)}: {why}");
    }

    /// <summary>What is wrong with a name (leading '/' already dropped), or null when nothing is.</summary>
    private static string? Problem(string n)
    {
        if (n.Length == 0) return "the name is empty";
        if (n.Length > MaxNameLength) return $"the name is longer than {MaxNameLength} characters";
        foreach (var segment in n.Split('/'))
        {
            if (segment.Length == 0) return "the name has an empty segment (no '//' and no trailing '/')";
            if (segment is "." or "..") return $"the name has a '{segment}' segment";
            if (segment[0] == '_') return $"a segment may not start with '_' ({EntryNames.Quote(segment)}; reserved for s3pod's layout)";
            if (!segment.All(IsNameChar)) return $"{EntryNames.Quote(segment)} has characters other than letters, digits, '.', '_' and '-'";
        }
        return null;
    }

    /// <summary>Whether <paramref name="text"/> could be an alias: it starts with a letter, so it is never read as a version.</summary>
    public static bool LooksLikeAlias(string text) => text.Length > 0 && char.IsAsciiLetter(text[0]) && text.All(IsNameChar);

    /// <summary>
    /// An alias name: a letter, then letters, digits, '.', '_', '-'. <c>latest</c> (computed) and
    /// <c>head</c> / <c>LATEST</c> (the staging head) are reserved, in any case.
    /// </summary>
    public static string ValidateAlias(string alias)
    {
        if (alias.Length == 0) throw S3PodException.Usage("the alias name is empty");
        if (alias.Length > MaxAliasLength) throw S3PodException.Usage($"alias {EntryNames.Quote(alias)} is longer than {MaxAliasLength} characters");
        if (!LooksLikeAlias(alias))
            throw S3PodException.Usage($"alias {EntryNames.Quote(alias)} must start with a letter and use only letters, digits, '.', '_' and '-'");
        if (IsReserved(alias))
            throw S3PodException.Usage($"'{alias}' is reserved (latest is computed, head is the staging head) and cannot be an alias");
        return alias;
    }

    public static bool IsReserved(string alias) =>
        alias.Equals("latest", StringComparison.OrdinalIgnoreCase) || alias.Equals("head", StringComparison.OrdinalIgnoreCase);

    private static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-';
}
