using System.ComponentModel;
using System.Diagnostics;

namespace S3Pod.Docker;

/// <summary>The container CLI as a child process: <c>save</c> to a stream, <c>load</c> from one,
/// <c>pull</c>. A failing CLI is an operational error naming its first stderr line.</summary>
internal sealed class DockerCli(string executable)
{
    /// <summary>Runs <c>save IMAGE</c> and hands its stdout to <paramref name="consume"/>. A failed
    /// save fails the consumer's stream before it ends, so a short image is never stored.</summary>
    public async Task<T> SaveAsync<T>(string image, Func<Stream, CancellationToken, Task<T>> consume, CancellationToken ct)
    {
        using var process = Start(["save", image], redirectStdin: false);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        try
        {
            var checkedOutput = new ExitCheckingStream(process.StandardOutput.BaseStream, async () =>
            {
                await process.WaitForExitAsync(ct);
                if (process.ExitCode != 0) throw S3PodException.Operational($"{executable} save {image} failed: {FirstLine(await stderr)}");
            });
            return await consume(checkedOutput, ct);
        }
        catch
        {
            Kill(process);
            throw;
        }
    }

    /// <summary>Runs <c>load</c>, lets <paramref name="feed"/> write the image to its stdin, and
    /// returns the first line it printed ("Loaded image: ...").</summary>
    public async Task<string> LoadAsync(Func<Stream, Task> feed, CancellationToken ct)
    {
        using var process = Start(["load"], redirectStdin: true);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        try
        {
            await feed(process.StandardInput.BaseStream);
            process.StandardInput.Close();
        }
        catch
        {
            Kill(process);
            throw;
        }
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0) throw S3PodException.Operational($"{executable} load failed: {FirstLine(await stderr)}");
        return FirstLine(await stdout);
    }

    /// <summary>The image's ID (<c>sha256:…</c>, the digest of its config): the same after a save and
    /// a load, so it tells whether an image changed.</summary>
    public async Task<string> ImageIdAsync(string image, CancellationToken ct)
    {
        using var process = Start(["image", "inspect", "--format", "{{.Id}}", image], redirectStdin: false);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0) throw S3PodException.Operational($"{executable} image inspect {image} failed: {FirstLine(await stderr)}");
        return FirstLine(await stdout);
    }

    public async Task RunToEndAsync(string[] args, CancellationToken ct)
    {
        using var process = Start(args, redirectStdin: false);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        _ = process.StandardOutput.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        if (process.ExitCode != 0) throw S3PodException.Operational($"{executable} {string.Join(' ', args)} failed: {FirstLine(await stderr)}");
    }

    private Process Start(string[] args, bool redirectStdin)
    {
        var psi = new ProcessStartInfo(executable)
        {
            RedirectStandardInput = redirectStdin,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        try
        {
            return Process.Start(psi) ?? throw S3PodException.Operational($"cannot start {executable}");
        }
        catch (Win32Exception e)
        {
            throw S3PodException.Operational($"cannot run '{executable}': {e.Message} (is docker installed? use --docker-bin for podman)");
        }
    }

    private static void Kill(Process p)
    {
        try { if (!p.HasExited) p.Kill(entireProcessTree: true); } catch { /* already gone */ }
    }

    private static string FirstLine(string s) => s.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "(no output)";

    /// <summary>Runs a check (the process's exit code) when the stream ends, inside the read that
    /// returns 0, so the consumer sees the failure before it commits what it read.</summary>
    private sealed class ExitCheckingStream(Stream inner, Func<Task> atEnd) : Streams.WrappingReadStream(inner)
    {
        private bool _checked;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            int n = await Inner.ReadAsync(buffer, ct);
            if (n == 0 && !_checked)
            {
                _checked = true;
                await atEnd();
            }
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    }
}
