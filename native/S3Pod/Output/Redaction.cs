using System.Text.RegularExpressions;

namespace S3Pod.Output;

/// <summary>
/// Removes passwords from text before it is shown: the user-info part of anything that looks like a
/// URL (<c>scheme://user:pw@host</c>) or a bare <c>user:pw@host</c>. Every human message and every
/// JSON error goes through it, so a malformed endpoint or URL given with a password is never echoed.
/// </summary>
internal static partial class Redaction
{
    [GeneratedRegex(@"(?<=://)[^/\s@]*@", RegexOptions.CultureInvariant)]
    private static partial Regex UrlUserInfo();

    [GeneratedRegex(@"(?<![\w.-/])[^\s/@:'""()<>\[\]]+:[^\s/@'""]*@(?=[\w\[])", RegexOptions.CultureInvariant)]
    private static partial Regex BareUserInfo();

    public static string Apply(string text)
    {
        if (!text.Contains('@')) return text;
        text = UrlUserInfo().Replace(text, "***@");
        return BareUserInfo().Replace(text, "***@");
    }
}
