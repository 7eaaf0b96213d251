namespace S3Pod.TestProxy;

/// <summary>
/// Which requests a rule applies to: every field that is set must hold. Paths are matched decoded
/// (<c>/bucket/caches/default/key/…​.tzst</c>), query parameters by name.
/// </summary>
internal sealed record RequestMatch
{
    public string? Method { get; init; }
    public string? PathContains { get; init; }
    public string? PathEndsWith { get; init; }
    /// <summary>A substring of the raw query, e.g. <c>partNumber=2&amp;</c>.</summary>
    public string? QueryContains { get; init; }
    public IReadOnlyList<string> QueryHas { get; init; } = [];
    public IReadOnlyList<string> QueryLacks { get; init; } = [];
    public IReadOnlyList<string> HeaderHas { get; init; } = [];
    public IReadOnlyList<string> HeaderLacks { get; init; } = [];
    /// <summary>A header whose value starts with a prefix, e.g. (Range, <c>bytes=8388608-</c>).</summary>
    public (string Name, string Prefix)? HeaderStartsWith { get; init; }
    /// <summary>A ranged request whose first byte is in [From, To): the range and its resumptions,
    /// which start wherever the previous attempt stopped.</summary>
    public (long From, long To)? RangeStartsWithin { get; init; }

    public bool Matches(HttpHead request) =>
        (Method is null || request.Method == Method)
        && (PathContains is null || request.Path.Contains(PathContains, StringComparison.Ordinal))
        && (PathEndsWith is null || request.Path.EndsWith(PathEndsWith, StringComparison.Ordinal))
        && (QueryContains is null || ("&" + request.Query + "&").Contains(QueryContains, StringComparison.Ordinal))
        && QueryHas.All(q => request.QueryNames.Contains(q))
        && !QueryLacks.Any(q => request.QueryNames.Contains(q))
        && HeaderHas.All(h => request.Header(h) is not null)
        && !HeaderLacks.Any(h => request.Header(h) is not null)
        && (HeaderStartsWith is not { } hp || request.Header(hp.Name)?.StartsWith(hp.Prefix, StringComparison.Ordinal) == true)
        && (RangeStartsWithin is not { } r || RangeStart(request) is { } start && start >= r.From && start < r.To);

    private static long? RangeStart(HttpHead request)
    {
        var range = request.Header("Range");
        if (range is null || !range.StartsWith("bytes=", StringComparison.Ordinal)) return null;
        var dash = range.IndexOf('-');
        return dash > 6 && long.TryParse(range[6..dash], out var start) ? start : null;
    }

    public override string ToString()
    {
        var parts = new List<string>();
        if (Method is not null) parts.Add(Method);
        if (PathContains is not null) parts.Add($"path~{PathContains}");
        if (PathEndsWith is not null) parts.Add($"path$={PathEndsWith}");
        if (QueryContains is not null) parts.Add($"?~{QueryContains}");
        parts.AddRange(QueryHas.Select(q => $"?{q}"));
        parts.AddRange(QueryLacks.Select(q => $"!?{q}"));
        parts.AddRange(HeaderHas.Select(h => $"[{h}]"));
        parts.AddRange(HeaderLacks.Select(h => $"![{h}]"));
        if (HeaderStartsWith is { } p) parts.Add($"[{p.Name}: {p.Prefix}…]");
        if (RangeStartsWithin is { } r) parts.Add($"[Range from {r.From}..{r.To})");
        return parts.Count == 0 ? "any" : string.Join(' ', parts);
    }
}

/// <summary>The S3 request kinds the matrix aims at.</summary>
internal static class On
{
    public static RequestMatch Any { get; } = new();
    public static RequestMatch Head { get; } = new() { Method = "HEAD" };
    /// <summary>A GET of an object (not a listing): single GETs and ranged GETs.</summary>
    public static RequestMatch ObjectGet { get; } = new() { Method = "GET", QueryLacks = ["list-type", "uploads"] };
    public static RequestMatch RangedGet { get; } = ObjectGet with { HeaderHas = ["Range"] };
    /// <summary>A single PUT of a whole object (not a part).</summary>
    public static RequestMatch SinglePut { get; } = new() { Method = "PUT", QueryLacks = ["partNumber", "uploadId"] };
    public static RequestMatch UploadPart { get; } = new() { Method = "PUT", QueryHas = ["partNumber", "uploadId"] };
    public static RequestMatch CreateMultipart { get; } = new() { Method = "POST", QueryHas = ["uploads"] };
    public static RequestMatch CompleteMultipart { get; } = new() { Method = "POST", QueryHas = ["uploadId"] };
}

/// <summary>What the proxy does to a matched request instead of relaying it faithfully.</summary>
internal abstract record Fault
{
    /// <summary>Relay N bytes of the request body upstream, then reset (RST) both connections.</summary>
    public sealed record ResetRequest(long AfterBytes) : Fault;

    /// <summary>Stop reading the request body after N bytes (the client's send blocks once the socket
    /// buffers fill); for <c>For</c>, or until the proxy is disposed when null.</summary>
    public sealed record StallRequest(long AfterBytes, TimeSpan? For = null) : Fault;

    /// <summary>Answer without forwarding (the request body is read and dropped), keep-alive.</summary>
    public sealed record Respond(int Status, string Code, string Message) : Fault;

    /// <summary>Read nothing, answer nothing; the socket stays open until the proxy is disposed.</summary>
    public sealed record Silent : Fault;

    /// <summary>Forward; relay the response head and N body bytes, then reset the client connection
    /// (after a moment: a reset discards whatever the proxy's kernel has not sent yet, so without
    /// it a slow reader would get fewer than N bytes).</summary>
    public sealed record ResetResponse(long AfterBytes) : Fault;

    /// <summary>Forward; relay the response head (with its full Content-Length) and N body bytes, then close (FIN).</summary>
    public sealed record TruncateResponse(long AfterBytes) : Fault;

    /// <summary>Forward; relay the head and N body bytes, then send nothing (socket open) for <c>For</c>,
    /// or until the proxy is disposed when null.</summary>
    public sealed record StallResponse(long AfterBytes, TimeSpan? For = null) : Fault;

    /// <summary>Relay both bodies at this many bytes per second.</summary>
    public sealed record Throttle(long BytesPerSecond) : Fault;

    /// <summary>Forward the whole request and read the server's whole answer (so it is committed),
    /// then reset the client connection instead of relaying the answer: "the response was lost".</summary>
    public sealed record ResetAfterForward : Fault;

    /// <summary>Run an action (e.g. a concurrent prune), then relay faithfully: races made deterministic.</summary>
    public sealed record RunFirst(string Name, Func<Task> Action) : Fault
    {
        public override string ToString() => $"RunFirst({Name})";
    }

    /// <summary>S3's throttling answer, with the XML body AWS sends.</summary>
    public static Respond SlowDown { get; } = new(503, "SlowDown", "Please reduce your request rate.");

    /// <summary>S3's generic server error (as before a CompleteMultipartUpload commits).</summary>
    public static Respond InternalError { get; } = new(500, "InternalError", "We encountered an internal error. Please try again.");
}

/// <summary>
/// A fault applied to the matching requests numbered <c>Skip</c> to <c>Skip + Times - 1</c>
/// (counted from 0 per rule). <c>Times = Always</c> makes a persistent fault.
/// </summary>
internal sealed record FaultRule(RequestMatch When, Fault Fault, int Skip = 0, int Times = 1)
{
    public const int Always = int.MaxValue;

    public override string ToString() =>
        $"{Fault} on {When}{(Skip > 0 ? $" after {Skip}" : "")}{(Times == Always ? " always" : Times == 1 ? " once" : $" x{Times}")}";
}
