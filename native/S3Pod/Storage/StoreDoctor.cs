namespace S3Pod.Storage;

/// <summary>One line of a health check: what was checked, whether it passed, and what was seen.</summary>
internal sealed record StoreCheck(string Name, bool Ok, string Detail);

/// <summary>
/// The store's half of <c>doctor</c> and <c>init</c>: access, a 1-byte canary written, read back and
/// deleted, and what the server enforces, probed afresh. Each check records its outcome instead of
/// throwing, so one run shows every problem.
/// </summary>
internal static class StoreDoctor
{
    /// <summary>Runs the checks, adding each to <paramref name="checks"/>; returns the capabilities
    /// when access and the canary passed (conditional writes are a capability, never a failure).</summary>
    public static async Task<StoreCapabilities?> CheckAsync(IObjectStore store, List<StoreCheck> checks, CancellationToken ct)
    {
        async Task<bool> Step(string name, Func<Task<string>> action)
        {
            try
            {
                checks.Add(new(name, true, await action()));
                return true;
            }
            catch (S3PodException e)
            {
                checks.Add(new(name, false, e.Message));
                return false;
            }
        }

        bool ok = await Step("access", async () => { await store.CheckAccessAsync(ct); return "bucket reachable"; });
        var canary = $".s3pod-doctor/{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid():N}";
        ok = ok && await Step("canary", async () =>
        {
            await store.PutAsync(canary, new MemoryStream([0x2a]), new PutOptions { Length = 1 }, ct);
            await using (var read = await store.OpenReadAsync(canary, ReadOptions.Default, ct) ?? throw S3PodException.Operational("canary written but not readable"))
            {
                var buffer = new byte[2];
                int n = await read.Content.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, ct);
                if (n != 1 || buffer[0] != 0x2a) throw S3PodException.Integrity($"canary read back {n} bytes that differ from what was written");
            }
            if (await store.DeleteAsync(canary, ct) != DeleteOutcome.Deleted) throw S3PodException.Operational("canary could not be deleted");
            return "1-byte write, read and delete";
        });
        if (!ok) return null;
        // Conditional writes are a capability, not a health check: a server that ignores them
        // is usable for caches (with weaker guarantees), so this step never fails doctor.
        StoreCapabilities? capabilities = null;
        await Step("conditional writes", async () =>
        {
            capabilities = await store.GetCapabilitiesAsync(ct, refresh: true);
            return capabilities.Detail;
        });
        return capabilities;
    }
}
