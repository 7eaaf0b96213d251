using System.Runtime.InteropServices;
using ZstdSharp;
using ZstdSharp.Unsafe;

namespace S3Pod.Archive;

/// <summary>
/// The zstd encoder every compressed stream goes through: multithreaded on all cores, frame
/// checksum on, 2 MiB jobs. It uses the system's libzstd when there is one (every Debian/Ubuntu
/// runner has libzstd.so.1, usually macOS with Homebrew too), because ZstdSharp — the managed port
/// that is always available — costs 1.3-1.8x the CPU of native zstd, and on a 2-core runner CPU is
/// the wall time of a cache save. Both write the same standard format.
/// </summary>
internal static class ZstdEncoder
{
    // 2 MiB jobs instead of zstd's default (4 x window): ~30 MB instead of ~70 MB of worker buffers at
    // level 3 (output buffers of finished jobs stay touched while the upload catches up), for output
    // about 2% larger (measured on a NuGet cache).
    private const int JobSize = 2 << 20;

    /// <summary>False forces the managed encoder (the <c>zstd = managed</c> setting, S3POD_ZSTD=managed:
    /// comparisons, a suspect libzstd). A process-wide choice, set once by the command layer from
    /// the settings; the environment is not read here.</summary>
    public static bool PreferNative { get; set; } = true;

    public static Stream Create(Stream output, int level, int bufferSize) =>
        Create(output, level, bufferSize, PreferNative);

    internal static bool NativeAvailable => NativeZstd.Available;

    [ThreadStatic] private static Compressor? _managedFrame;

    /// <summary>One complete single-threaded frame (checksum on) of <paramref name="data"/> into
    /// <paramref name="output"/>, which must hold <see cref="FrameBound"/> bytes; returns its length.
    /// For callers that compress many independent blocks on their own threads (the chunk store).</summary>
    public static int CompressFrame(ReadOnlySpan<byte> data, Span<byte> output, int level)
    {
        if (PreferNative && NativeZstd.TryCompressFrame(data, output, level) is int n) return n;
        if (_managedFrame is null)
        {
            _managedFrame = new Compressor(level);
            _managedFrame.SetParameter(ZSTD_cParameter.ZSTD_c_checksumFlag, 1);
        }
        _managedFrame.SetParameter(ZSTD_cParameter.ZSTD_c_compressionLevel, level);
        return _managedFrame.Wrap(data, output);
    }

    [ThreadStatic] private static Decompressor? _managedDecompressor;

    /// <summary>Decompresses one or more complete frames into <paramref name="output"/> (checksums
    /// checked); returns the length written. Native libzstd when there is one: it decodes about
    /// twice as fast as the managed port, and a chunked restore decodes every byte it restores.</summary>
    /// <exception cref="InvalidDataException">The frame is damaged or larger than <paramref name="output"/>.</exception>
    public static int DecompressFrame(ReadOnlySpan<byte> frame, Span<byte> output)
    {
        if (PreferNative && NativeZstd.TryDecompressFrame(frame, output) is { } native)
            return native.Error is null ? native.Length : throw new InvalidDataException(native.Error);
        try
        {
            return (_managedDecompressor ??= new Decompressor()).Unwrap(frame, output);
        }
        catch (Exception e) when (e is ZstdException or ArgumentException or InvalidOperationException)
        {
            _managedDecompressor = null; // not reused after a failure
            throw new InvalidDataException(e.Message, e);
        }
    }

    /// <summary>The most a frame of <paramref name="length"/> bytes can take (ZSTD_COMPRESSBOUND plus the frame header and checksum).</summary>
    public static int FrameBound(int length) => length + (length >> 8) + (length < (128 << 10) ? ((128 << 10) - length) >> 11 : 0) + 64;

    internal static Stream Create(Stream output, int level, int bufferSize, bool preferNative)
    {
        if (preferNative && NativeZstd.TryCreate(output, level, bufferSize) is { } native)
            return native;
        var zstd = new CompressionStream(output, level, bufferSize, leaveOpen: true);
        zstd.SetParameter(ZSTD_cParameter.ZSTD_c_nbWorkers, Environment.ProcessorCount);
        zstd.SetParameter(ZSTD_cParameter.ZSTD_c_checksumFlag, 1);
        zstd.SetParameter(ZSTD_cParameter.ZSTD_c_jobSize, JobSize);
        return zstd;
    }

    /// <summary>A write-only stream over libzstd's streaming API (ZSTD_compressStream2), loaded at run time.</summary>
    private sealed unsafe class NativeZstd : WriteOnlyStream
    {
        private const int CompressionLevel = 100, ChecksumFlag = 201, NbWorkers = 400, JobSizeParam = 401;
        private const int Continue = 0, End = 2;

        [StructLayout(LayoutKind.Sequential)]
        private struct InBuffer { public byte* Src; public nuint Size; public nuint Pos; }

        [StructLayout(LayoutKind.Sequential)]
        private struct OutBuffer { public byte* Dst; public nuint Size; public nuint Pos; }

        private sealed class Api
        {
            public delegate* unmanaged<nint> CreateCCtx;
            public delegate* unmanaged<nint, nuint> FreeCCtx;
            public delegate* unmanaged<nint, int, int, nuint> SetParameter;
            public delegate* unmanaged<nint, OutBuffer*, InBuffer*, int, nuint> CompressStream2;
            public delegate* unmanaged<nuint, uint> IsError;
            public delegate* unmanaged<nuint, byte*> GetErrorName;
            public delegate* unmanaged<nint> CreateDCtx;
            public delegate* unmanaged<nint, void*, nuint, void*, nuint, nuint> DecompressDCtx;
        }

        private static readonly Lazy<Api?> Library = new(Load);

        public static bool Available => Library.Value is not null;

        private static Api? Load()
        {
            foreach (var name in new[] { "libzstd.so.1", "libzstd.1.dylib", "/opt/homebrew/lib/libzstd.1.dylib", "/usr/local/lib/libzstd.1.dylib", "libzstd.dll" })
            {
                if (!NativeLibrary.TryLoad(name, out var handle)) continue;
                try
                {
                    return new Api
                    {
                        CreateCCtx = (delegate* unmanaged<nint>)NativeLibrary.GetExport(handle, "ZSTD_createCCtx"),
                        FreeCCtx = (delegate* unmanaged<nint, nuint>)NativeLibrary.GetExport(handle, "ZSTD_freeCCtx"),
                        SetParameter = (delegate* unmanaged<nint, int, int, nuint>)NativeLibrary.GetExport(handle, "ZSTD_CCtx_setParameter"),
                        CompressStream2 = (delegate* unmanaged<nint, OutBuffer*, InBuffer*, int, nuint>)NativeLibrary.GetExport(handle, "ZSTD_compressStream2"),
                        IsError = (delegate* unmanaged<nuint, uint>)NativeLibrary.GetExport(handle, "ZSTD_isError"),
                        GetErrorName = (delegate* unmanaged<nuint, byte*>)NativeLibrary.GetExport(handle, "ZSTD_getErrorName"),
                        CreateDCtx = (delegate* unmanaged<nint>)NativeLibrary.GetExport(handle, "ZSTD_createDCtx"),
                        DecompressDCtx = (delegate* unmanaged<nint, void*, nuint, void*, nuint, nuint>)NativeLibrary.GetExport(handle, "ZSTD_decompressDCtx"),
                    };
                }
                catch (EntryPointNotFoundException)
                {
                    return null; // too old a libzstd: the managed encoder will do
                }
            }
            return null;
        }

        private readonly Api _api;
        private readonly Stream _output;
        private readonly byte[] _outBuffer;
        private nint _cctx;
        private bool _ended;

        private NativeZstd(Api api, nint cctx, Stream output, int bufferSize)
        {
            _api = api;
            _cctx = cctx;
            _output = output;
            _outBuffer = GC.AllocateUninitializedArray<byte>(bufferSize, pinned: true);
        }

        public static NativeZstd? TryCreate(Stream output, int level, int bufferSize)
        {
            if (Library.Value is not { } api) return null;
            var cctx = api.CreateCCtx();
            if (cctx == 0) return null;
            // A libzstd built without threads refuses nbWorkers: then the managed multithreaded
            // encoder is the faster choice.
            if (api.IsError(api.SetParameter(cctx, NbWorkers, Environment.ProcessorCount)) != 0
                || api.IsError(api.SetParameter(cctx, CompressionLevel, level)) != 0
                || api.IsError(api.SetParameter(cctx, ChecksumFlag, 1)) != 0
                || api.IsError(api.SetParameter(cctx, JobSizeParam, JobSize)) != 0)
            {
                api.FreeCCtx(cctx);
                return null;
            }
            return new NativeZstd(api, cctx, output, bufferSize);
        }

        // One context per thread for one-shot frames: creating one per block costs more than compressing a small block.
        [ThreadStatic] private static nint _frameCctx;

        public static int? TryCompressFrame(ReadOnlySpan<byte> data, Span<byte> output, int level)
        {
            if (Library.Value is not { } api) return null;
            if (_frameCctx == 0)
            {
                var cctx = api.CreateCCtx();
                if (cctx == 0 || api.IsError(api.SetParameter(cctx, ChecksumFlag, 1)) != 0) return null;
                _frameCctx = cctx;
            }
            if (api.IsError(api.SetParameter(_frameCctx, CompressionLevel, level)) != 0) return null;
            fixed (byte* src = data)
            fixed (byte* dst = output)
            {
                var input = new InBuffer { Src = src, Size = (nuint)data.Length, Pos = 0 };
                var outBuf = new OutBuffer { Dst = dst, Size = (nuint)output.Length, Pos = 0 };
                // With the end directive on the first call, zstd knows the size and compresses in one go.
                var remaining = api.CompressStream2(_frameCctx, &outBuf, &input, End);
                if (api.IsError(remaining) != 0)
                    throw new IOException($"zstd: {Marshal.PtrToStringUTF8((nint)api.GetErrorName(remaining))}");
                if (remaining != 0) throw new IOException("zstd: output buffer too small for one frame");
                return (int)outBuf.Pos;
            }
        }

        [ThreadStatic] private static nint _frameDctx;

        /// <summary>Decompresses whole frames into <paramref name="output"/> (checking their checksums);
        /// null when libzstd is absent, else the length written or an error name.</summary>
        public static (int Length, string? Error)? TryDecompressFrame(ReadOnlySpan<byte> frame, Span<byte> output)
        {
            if (Library.Value is not { } api) return null;
            if (_frameDctx == 0 && (_frameDctx = api.CreateDCtx()) == 0) return null;
            fixed (byte* src = frame)
            fixed (byte* dst = output)
            {
                var n = api.DecompressDCtx(_frameDctx, dst, (nuint)output.Length, src, (nuint)frame.Length);
                if (api.IsError(n) != 0) return (0, Marshal.PtrToStringUTF8((nint)api.GetErrorName(n)));
                return ((int)n, null);
            }
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> data)
        {
            ObjectDisposedException.ThrowIf(_cctx == 0, this);
            fixed (byte* src = data)
            {
                var input = new InBuffer { Src = src, Size = (nuint)data.Length, Pos = 0 };
                while (input.Pos < input.Size) Step(&input, Continue);
            }
        }

        /// <summary>One compressStream2 call; whatever it produced goes to the output.</summary>
        private nuint Step(InBuffer* input, int directive)
        {
            nuint remaining;
            int produced;
            fixed (byte* dst = _outBuffer)
            {
                var output = new OutBuffer { Dst = dst, Size = (nuint)_outBuffer.Length, Pos = 0 };
                remaining = _api.CompressStream2(_cctx, &output, input, directive);
                produced = (int)output.Pos;
            }
            if (_api.IsError(remaining) != 0)
                throw new IOException($"zstd: {Marshal.PtrToStringUTF8((nint)_api.GetErrorName(remaining))}");
            if (produced > 0) _output.Write(_outBuffer, 0, produced);
            return remaining;
        }

        /// <summary>Ends the frame (checksum included). Only a successful pack calls it: a failed one
        /// must not look complete.</summary>
        private void Finish()
        {
            if (_ended || _cctx == 0) return;
            _ended = true;
            var input = new InBuffer();
            while (Step(&input, End) != 0) { }
            _output.Flush();
        }

        protected override void Dispose(bool disposing)
        {
            if (_cctx != 0)
            {
                try
                {
                    if (disposing) Finish();
                }
                finally
                {
                    _api.FreeCCtx(_cctx);
                    _cctx = 0;
                }
            }
            base.Dispose(disposing);
        }
    }
}
