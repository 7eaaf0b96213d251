using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace S3Pod.Commands;

/// <summary>
/// The one way a command's result reaches stdout: with <c>--json</c>, exactly one JSON object;
/// without it, the command's plain form (a key, a path, a version, lines of a listing) or nothing.
/// Writing twice is a bug and throws, so "one result per command" holds by construction.
/// </summary>
internal sealed class ResultWriter(TextWriter stdout, bool json)
{
    public bool Json { get; } = json;

    public bool Written { get; private set; }

    /// <summary>Writes the result. <paramref name="plain"/> is what stdout shows without --json (null: nothing).</summary>
    public void Write<T>(T result, JsonTypeInfo<T> type, string? plain = null)
    {
        if (Written) throw new InvalidOperationException("a command wrote two results");
        Written = true;
        if (Json) stdout.WriteLine(JsonSerializer.Serialize(result, type));
        else if (plain is not null) stdout.Write(plain.EndsWith('\n') ? plain : plain + "\n");
        stdout.Flush();
    }
}
