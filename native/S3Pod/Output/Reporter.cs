using System.Diagnostics;

namespace S3Pod.Output;

/// <summary>
/// Human-facing messages. Everything here goes to stderr so stdout stays machine-readable
/// (`KEY=$(s3pod key ...)`, `--json`).
/// </summary>
internal sealed class Reporter(TextWriter writer, bool isTerminal)
{
    // Parallel work (asset prefill's 16 downloads, chunk workers) reports from many threads. Console's
    // writers are synchronized, a StringWriter (tests, in-process runs) is not: two lines at once
    // corrupted its buffer ("ArgumentException: Destination is too short" in a prefill).
    private readonly TextWriter error = TextWriter.Synchronized(writer);

    public bool IsTerminal { get; } = isTerminal;

    // Every line goes through Redaction: a password inside a URL must never reach a CI log.
    public void Info(string message) => error.WriteLine(Redaction.Apply(message));

    public void Warn(string message) => error.WriteLine($"s3pod: warning: {Redaction.Apply(message)}");

    public void Error(string message) => error.WriteLine($"s3pod: {Redaction.Apply(message)}");

    public TransferProgress Progress(string label, long? total) => new(this, error, label, total);
}

/// <summary>
/// Progress for one transfer. Silent for the first two seconds (most cache operations finish
/// sooner); then, on a terminal, one line redrawn in place; in a CI log, one line every five
/// seconds, because redraws become noise there.
/// </summary>
internal sealed class TransferProgress(Reporter reporter, TextWriter error, string label, long? total) : IDisposable
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan _lastPrint = TimeSpan.Zero;
    private long _bytes;
    private bool _printed;

    public TimeSpan Elapsed => _clock.Elapsed;

    public void Report(long bytes)
    {
        _bytes = bytes;
        var now = _clock.Elapsed;
        if (now < TimeSpan.FromSeconds(2)) return;
        var interval = reporter.IsTerminal ? TimeSpan.FromMilliseconds(250) : TimeSpan.FromSeconds(5);
        if (now - _lastPrint < interval) return;
        _lastPrint = now;
        lock (this)
        {
            var line = Format(now);
            if (reporter.IsTerminal) error.Write($"\r{line}\u001b[K");
            else error.WriteLine(line);
            _printed = true;
        }
    }

    private string Format(TimeSpan now)
    {
        double rate = _bytes / Math.Max(now.TotalSeconds, 0.001);
        var text = $"{label}: {Size(_bytes)}";
        if (total is > 0 and var t)
        {
            text += $" of {Size(t)} ({100.0 * _bytes / t:0}%)";
            if (rate > 0) text += $", ETA {TimeSpan.FromSeconds(Math.Max(0, (t - _bytes) / rate)):mm\\:ss}";
        }
        return text + $", {Size((long)rate)}/s";
    }

    public static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1 << 20 => $"{bytes / 1024.0:0.0} KiB",
        < 1 << 30 => $"{bytes / 1048576.0:0.0} MiB",
        _ => $"{bytes / 1073741824.0:0.00} GiB",
    };

    public void Dispose()
    {
        if (_printed && reporter.IsTerminal) error.WriteLine();
    }
}
