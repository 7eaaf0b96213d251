using System.Diagnostics;
using S3Pod.Archive;

namespace S3Pod.UnitTests.Archive;

/// <summary>Both encoders (system libzstd and the managed port) write frames the zstd CLI verifies and decodes.</summary>
public class ZstdEncoderTests
{
    private static byte[] Sample()
    {
        var data = new byte[6 * 1024 * 1024 + 123];
        var rng = new Random(42);
        for (int i = 0; i < data.Length; i++) data[i] = i % 3 == 0 ? (byte)rng.Next(256) : (byte)(i / 1000);
        return data;
    }

    private static byte[] DecodeWithCli(byte[] frame)
    {
        var psi = new ProcessStartInfo("zstd", ["-d", "-c", "-q"]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var output = new MemoryStream();
        var copy = p.StandardOutput.BaseStream.CopyToAsync(output);
        p.StandardInput.BaseStream.Write(frame);
        p.StandardInput.Close();
        copy.Wait();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, p.StandardError.ReadToEnd());
        return output.ToArray();
    }

    [SkippableTheory]
    [InlineData(true)]
    [InlineData(false)]
    public void Frames_DecodeWithTheZstdCli_AndCarryAChecksum(bool preferNative)
    {
        Skip.If(preferNative && !ZstdEncoder.NativeAvailable, "no system libzstd with multithreading on this machine");
        var data = Sample();
        var frame = new MemoryStream();
        using (var z = ZstdEncoder.Create(frame, 3, 1 << 20, preferNative))
        {
            for (int off = 0; off < data.Length; off += 100_000) z.Write(data, off, Math.Min(100_000, data.Length - off));
        }
        Assert.Equal(data, DecodeWithCli(frame.ToArray()));
        // Frame header descriptor: bit 2 is the content-checksum flag.
        var bytes = frame.ToArray();
        Assert.Equal(0xFD2FB528u, BitConverter.ToUInt32(bytes, 0));
        Assert.True((bytes[4] & 0x04) != 0, "content checksum flag not set");
    }
}
