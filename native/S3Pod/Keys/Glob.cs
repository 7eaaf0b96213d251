using System.Text;
using System.Text.RegularExpressions;

namespace S3Pod.Keys;

/// <summary>
/// Glob patterns as GitHub's hashFiles and actions/cache use them: <c>*</c> and <c>?</c> within one path
/// segment, <c>**</c> across segments, <c>[abc]</c> classes, dotfiles matched, <c>!pattern</c> excludes.
/// Matching is on '/'-separated paths relative to a base directory.
/// </summary>
internal sealed class Glob
{
    private readonly Regex _regex;

    public Glob(string pattern)
    {
        Pattern = pattern;
        _regex = new Regex("^" + Translate(pattern) + "$", RegexOptions.CultureInvariant | RegexOptions.Singleline);
    }

    public string Pattern { get; }

    public static bool IsPattern(string s) => s.IndexOfAny(['*', '?', '[']) >= 0;

    public bool IsMatch(string relativePath) => _regex.IsMatch(relativePath);

    /// <summary>The leading part of the pattern without wildcards: where a walk has to start.</summary>
    public static string LiteralBase(string pattern)
    {
        var segments = pattern.Split('/');
        var literal = new List<string>();
        foreach (var s in segments)
        {
            if (IsPattern(s)) break;
            literal.Add(s);
        }
        if (literal.Count == segments.Length) literal.RemoveAt(literal.Count - 1);
        return string.Join('/', literal);
    }

    private static string Translate(string pattern)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            switch (c)
            {
                case '*' when i + 1 < pattern.Length && pattern[i + 1] == '*':
                    // "**/" matches zero or more whole segments; a trailing "**" matches everything below.
                    bool slashAfter = i + 2 < pattern.Length && pattern[i + 2] == '/';
                    sb.Append(slashAfter ? "(?:.*/)?" : ".*");
                    i += slashAfter ? 2 : 1;
                    break;
                case '*':
                    sb.Append("[^/]*");
                    break;
                case '?':
                    sb.Append("[^/]");
                    break;
                case '[':
                    int close = pattern.IndexOf(']', i + 1);
                    if (close < 0) { sb.Append("\\["); break; }
                    var body = pattern[(i + 1)..close];
                    if (body.StartsWith('!')) body = "^" + body[1..];
                    sb.Append('[').Append(body.Replace("\\", "\\\\")).Append(']');
                    i = close;
                    break;
                default:
                    sb.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }
        return sb.ToString();
    }
}
