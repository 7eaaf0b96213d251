using System.Diagnostics;

namespace S3Pod.FaultTests.Harness;

/// <summary>The docker CLI against the test daemon (DOCKER_HOST), for preparing and checking images.</summary>
internal static class Docker
{
    /// <summary>The small image tests/servers/docker.sh imports (a busybox rootfs, ~2 MB).</summary>
    public static string BaseImage => Environment.GetEnvironmentVariable("S3POD_TEST_DOCKER_IMAGE") ?? "s3pod-test/busybox:1";

    public static (int Code, string Out, string Err) Run(params string[] args) => RunShell(null, args);

    /// <summary>Runs docker, or a bash script when <paramref name="script"/> is given (args then go to bash).</summary>
    public static (int Code, string Out, string Err) RunShell(string? script, params string[] args)
    {
        var psi = script is null ? new ProcessStartInfo("docker") : new ProcessStartInfo("bash", ["-c", "set -euo pipefail; " + script, "bash"]);
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output, err.Result);
    }

    public static string? ImageId(string image)
    {
        var r = Run("image", "inspect", "--format", "{{.Id}}", image);
        return r.Code == 0 ? r.Out.Trim() : null;
    }

    public static void Tag(string image, string tag)
    {
        var r = Run("tag", image, tag);
        if (r.Code != 0) throw new InvalidOperationException($"docker tag {image} {tag}: {r.Err}");
    }

    /// <summary>Removes a tag (the image's layers stay while another tag holds them).</summary>
    public static void Untag(string tag) => Run("rmi", tag);

    /// <summary>An image whose only layer is <paramref name="bytes"/> of random data: its zstd'd `docker save` is multipart-sized.</summary>
    public static string CreateRandomImage(string workDir, long bytes)
    {
        var dir = Directory.CreateDirectory(Path.Combine(workDir, "image-" + Guid.NewGuid().ToString("N")[..8])).FullName;
        File.WriteAllBytes(Path.Combine(dir, "random.bin"), Tree.RandomBytes(bytes));
        var tag = $"s3pod-fault/big-{Guid.NewGuid():N}"[..30] + ":1";
        var r = RunShell("tar -C \"$1\" -c . | docker import - \"$2\" >/dev/null", dir, tag);
        Directory.Delete(dir, true);
        if (r.Code != 0) throw new InvalidOperationException($"docker import: {r.Err}");
        return tag;
    }
}
