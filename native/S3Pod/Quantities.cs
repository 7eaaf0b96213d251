namespace S3Pod;

/// <summary>Quantities written for people, shared by every layer (the lowest ones included, so it
/// lives beside <see cref="S3PodException"/> rather than in Config or Output).</summary>
internal static class Quantities
{
    /// <summary>For messages: "1.5 s", "200 ms", "2 min".</summary>
    public static string Duration(TimeSpan d) =>
        d.TotalSeconds < 1 ? $"{d.TotalMilliseconds:0} ms" : d.TotalMinutes < 2 ? $"{d.TotalSeconds:0.#} s" : $"{d.TotalMinutes:0.#} min";
}
