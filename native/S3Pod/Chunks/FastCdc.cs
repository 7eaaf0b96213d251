using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace S3Pod.Chunks;

/// <summary>
/// Content-defined chunking (FastCDC with normalized chunking, Xia et al. 2016/2020): a gear hash
/// rolls over the bytes; a cut falls where its top bits are zero — more bits are required before the
/// average size, fewer after it, which pulls chunk sizes towards the average. Because a cut depends
/// only on the 64 bytes before it, an insertion or a changed byte moves at most the cuts next to it:
/// the rest of a tar stream cuts exactly as before, and its chunks are found in the store.
/// The gear table and the sizes are part of the store's dedup behaviour (not of its format: any cut
/// restores), so they never change silently.
/// </summary>
internal sealed class FastCdc
{
    /// <summary>Sizes chosen by measurement on the .NET SDK tree (README, "Chunk sizes").</summary>
    public static readonly FastCdc Default = new(128 << 10, 512 << 10, 2 << 20);

    private static readonly ulong[] Gear = MakeGear();

    public int Min { get; }
    public int Avg { get; }
    public int Max { get; }
    private readonly ulong _maskS, _maskL;

    public FastCdc(int min, int avg, int max)
    {
        if (!(min > 64 && min < avg && avg < max) || (avg & (avg - 1)) != 0)
            throw new ArgumentException($"chunk sizes must satisfy 64 < min < avg < max with avg a power of two: {min}/{avg}/{max}");
        Min = min;
        Avg = avg;
        Max = max;
        int bits = System.Numerics.BitOperations.Log2((uint)avg);
        _maskS = ~0UL << (64 - (bits + 2));
        _maskL = ~0UL << (64 - (bits - 2));
    }

    /// <summary>The length of the first chunk of <paramref name="data"/>. With <paramref name="final"/>
    /// false the data must hold at least <see cref="Max"/> bytes (else the cut could move once more arrives).</summary>
    public int Cut(ReadOnlySpan<byte> data, bool final)
    {
        if (data.Length <= Min) return final ? data.Length : throw new ArgumentException("not enough data for a cut");
        if (!final && data.Length < Max) throw new ArgumentException("not enough data for a cut");
        int n = Math.Min(data.Length, Max);
        int normal = Math.Min(Avg, n);
        // The hot loop of a save (every byte of the tree passes here): indexed without bounds checks,
        // since i stays below n <= data.Length and a byte always indexes the 256-word table.
        ref byte bytes = ref MemoryMarshal.GetReference(data);
        ref ulong gear = ref MemoryMarshal.GetArrayDataReference(Gear);
        ulong maskS = _maskS, maskL = _maskL;
        ulong h = 0;
        int i = Min;
        for (; i < normal; i++)
        {
            h = (h << 1) + Unsafe.Add(ref gear, Unsafe.Add(ref bytes, i));
            if ((h & maskS) == 0) return i + 1;
        }
        for (; i < n; i++)
        {
            h = (h << 1) + Unsafe.Add(ref gear, Unsafe.Add(ref bytes, i));
            if ((h & maskL) == 0) return i + 1;
        }
        return n;
    }

    /// <summary>256 fixed pseudo-random words (splitmix64 from a fixed seed): the same table in every build.</summary>
    private static ulong[] MakeGear()
    {
        var table = new ulong[256];
        ulong state = 0x5333_504F_445F_4344; // "S3POD_CD"
        for (int i = 0; i < table.Length; i++)
        {
            ulong z = state += 0x9E3779B97F4A7C15;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
            table[i] = z ^ (z >> 31);
        }
        return table;
    }
}
