using System.Text;
using S3Pod.Output;

namespace S3Pod.UnitTests;

/// <summary>Parallel work (asset prefill's downloads, chunk workers) reports from many threads at
/// once; the reporter hands its writer one line at a time even when the writer is not thread-safe
/// (a StringWriter, as tests and in-process runs use: overlapping writes corrupted one).</summary>
public class ReporterConcurrencyTests
{
    /// <summary>Records whether two writes were ever inside it at the same time.</summary>
    private sealed class OverlapDetector : TextWriter
    {
        private int _inside;
        public bool Overlapped { get; private set; }
        public int Lines;
        public override Encoding Encoding => Encoding.UTF8;

        public override void WriteLine(string? value)
        {
            if (Interlocked.Increment(ref _inside) > 1) Overlapped = true;
            Thread.Sleep(1); // a write that takes time, as a slow pipe's does
            Interlocked.Increment(ref Lines);
            Interlocked.Decrement(ref _inside);
        }
    }

    [Fact]
    public void LinesFromManyThreads_ReachTheWriterOneAtATime()
    {
        var sink = new OverlapDetector();
        var reporter = new Reporter(sink, isTerminal: false);
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, t =>
        {
            for (int i = 0; i < 20; i++)
            {
                reporter.Info($"thread {t} line {i}");
                reporter.Warn($"thread {t} warning {i}");
            }
        });
        Assert.Equal(8 * 20 * 2, sink.Lines);
        Assert.False(sink.Overlapped, "two lines were written at once");
    }
}
