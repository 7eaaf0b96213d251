using System.Text.RegularExpressions;

namespace S3Pod;

/// <summary>
/// Removes secrets from text before it is shown: the user-info part of anything that looks like a
/// URL (<c>scheme://user:pw@host</c>) or a bare <c>user:pw@host</c>, and the path and query of the
/// endpoint (a gateway's token may live there: <c>http://host/?token=…</c>), wherever they appear,
/// raw or percent-encoded. Every human message and every JSON error goes through it, so a malformed
/// endpoint or URL given with a password is never echoed.
/// </summary>
internal static partial class Redaction
{
    private const string Mask = "***";
    private static readonly object Gate = new();
    private static string[] _secrets = [];

    [GeneratedRegex(@"(?<=://)[^/\s@]*@", RegexOptions.CultureInvariant)]
    private static partial Regex UrlUserInfo();

    [GeneratedRegex(@"(?<![\w.-/])[^\s/@:'""()<>\[\]]+:[^\s/@'""]*@(?=[\w\[])", RegexOptions.CultureInvariant)]
    private static partial Regex BareUserInfo();

    public static string Apply(string text)
    {
        var secrets = _secrets;
        foreach (var secret in secrets)
            if (text.Contains(secret, StringComparison.Ordinal)) text = text.Replace(secret, Mask, StringComparison.Ordinal);
        if (!text.Contains('@')) return text;
        text = UrlUserInfo().Replace(text, Mask + "@");
        return BareUserInfo().Replace(text, Mask + "@");
    }

    /// <summary>
    /// An endpoint as messages may show it: scheme, host and port; a path or query, which may hold a
    /// token, as <c>***</c>. Its path and query are also remembered, so <see cref="Apply"/> hides them
    /// in any other text (an HTTP error quoting the request URL).
    /// </summary>
    public static string Url(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")) return Apply(url);
        var shown = $"{uri.Scheme}://{uri.Authority}";
        var path = uri.AbsolutePath.TrimEnd('/');
        if (path.Length > 0 || uri.Query.Length > 1)
        {
            Remember(path.Length > 0 ? uri.AbsolutePath + uri.Query : uri.Query);
            if (uri.Query.Length > 1) Remember(uri.Query[1..]);
            if (path.Length > 0) Remember(path);
        }
        return shown + (path.Length > 0 ? "/" + Mask : "") + (uri.Query.Length > 1 ? "?" + Mask : "");
    }

    private static void Remember(string secret)
    {
        // Short ones (a "/s3" path) would mangle unrelated text; a token is longer.
        if (secret.Length < 8) return;
        lock (Gate)
        {
            var forms = new[] { secret, Uri.UnescapeDataString(secret), Uri.EscapeDataString(secret) };
            // Longest first, so a whole path-and-query goes before its parts.
            _secrets = _secrets.Concat(forms.Where(f => f.Length >= 8)).Distinct(StringComparer.Ordinal)
                .OrderByDescending(s => s.Length).ToArray();
        }
    }
}
