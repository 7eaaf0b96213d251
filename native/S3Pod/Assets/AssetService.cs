using System.Diagnostics;
using S3Pod.Files;
using S3Pod.Output;

namespace S3Pod.Assets;

/// <summary>
/// The asset commands as a service: a path for a spec or an s3:// URI, copies, the manifest's
/// listing and check, and prefill of many entries in parallel. What is resolved where is the
/// resolver's and the object cache's business; this class adds the list handling and the outcomes.
/// </summary>
internal sealed class AssetService(AssetResolver resolver, ObjectCache objects, ManifestFile manifest, Func<string, string?> env, Reporter reporter)
{
    /// <summary>A local path for a spec or an <c>s3://</c> URI, downloading at most once.</summary>
    public async Task<AssetResult> PathAsync(string spec, FetchOptions options, CancellationToken ct)
    {
        if (!S3Uri.Looks(spec)) return await resolver.ResolveAsync(spec, options, ct);
        var timer = Stopwatch.StartNew();
        var fetched = await objects.FetchAsync(S3Uri.Parse(spec), options, ct);
        return AssetResolver.FromFetch(spec, fetched, timer);
    }

    /// <summary>Copies what <paramref name="spec"/> resolves to into <paramref name="destination"/>:
    /// a file replaces DEST in one rename; a directory is copied beside DEST and renamed into place
    /// (DEST must not exist).</summary>
    public async Task<AssetResult> GetAsync(string spec, string destination, FetchOptions options, CancellationToken ct)
    {
        var found = await PathAsync(spec, options, ct);
        if (File.Exists(found.Path))
        {
            if (Directory.Exists(destination)) throw S3PodException.Usage($"destination {destination} is a directory");
            await using var source = new FileStream(found.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
            long expected = source.Length;
            await LocalFiles.WriteVerifiedAsync(source, destination, ct, (_, size) =>
            {
                if (size != expected) throw S3PodException.Operational($"{found.Path} changed while it was copied; {destination} left untouched");
            });
        }
        else
        {
            if (File.Exists(destination) || Directory.Exists(destination))
                throw S3PodException.Usage($"destination {destination} exists; a directory asset is copied to a new path");
            var parent = Path.GetDirectoryName(Path.GetFullPath(destination))!;
            Directory.CreateDirectory(parent);
            var temp = Path.Combine(parent, $".{Path.GetFileName(destination)}.s3pod-{Guid.NewGuid():N}");
            try
            {
                CopyTree(found.Path, temp);
                Directory.Move(temp, destination);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw S3PodException.Operational($"cannot copy {found.Path} to {destination}: {e.Message}");
            }
            finally
            {
                if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
            }
        }
        reporter.Info($"{spec} -> {destination}");
        return found with { Path = destination };
    }

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
    }

    /// <summary>The manifest's entries and whether each is on this machine now (no network).</summary>
    public AssetListResult List()
    {
        var m = manifest.Require();
        var entries = m.Entries.Select(e =>
        {
            var present = resolver.PresentPath(e);
            return new AssetListEntry(e.Name, e.Key, e.Kind, e.Value, e.Version, e.Digest, present is not null, present);
        }).ToList();
        return new AssetListResult(m.FilePath, m.Format == ManifestFormat.Baiji ? "baiji" : "s3pod", m.Repository, entries);
    }

    /// <summary>The CI guard's local half: a manifest that still names a local file or an s3:// object
    /// instead of a version fails. Environment overrides in force are warnings, not failures (they are
    /// not committed). <see cref="AssetLedgerService.CheckAsync"/> adds the store's half and reports.</summary>
    public AssetCheckResult Check()
    {
        var m = manifest.Require();
        var problems = new List<AssetProblem>();
        var warnings = new List<string>();
        foreach (var e in m.Entries)
        {
            if (e.IsOverride)
                problems.Add(new AssetProblem(e.Key, e.Name, "override", $"'{e.Key}' is overridden by {(e.File is not null ? "the local file" : "the object")} {e.Value}; pin a version before merging"));
            var envName = AssetResolver.EnvPrefix + AssetSpec.EnvName(e.Name);
            foreach (var suffix in new[] { "_FILE", "_VERSION" })
                if (env(envName + suffix) is { Length: > 0 } value) warnings.Add($"{envName}{suffix}={value} overrides '{e.Key}' in this environment");
        }
        return new AssetCheckResult(m.FilePath, problems.Count == 0, problems, warnings);
    }

    /// <summary>
    /// Fetches every entry of a list (s3:// URIs into the object cache, specs into the assets
    /// directory), <paramref name="jobs"/> at a time. Every failure is collected and reported at the
    /// end; none stops the others.
    /// </summary>
    public async Task<(AssetPrefillResult Result, IReadOnlyList<AssetResult?> Fetched)> PrefillAsync(IReadOnlyList<string> entries, int jobs, FetchOptions options, CancellationToken ct)
    {
        var timer = Stopwatch.StartNew();
        var results = new AssetResult?[entries.Count];
        var failures = new AssetFailure?[entries.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, entries.Count), new ParallelOptions { MaxDegreeOfParallelism = jobs, CancellationToken = ct }, async (i, token) =>
        {
            try
            {
                results[i] = await PathAsync(entries[i], options, token);
            }
            catch (S3PodException e)
            {
                failures[i] = new AssetFailure(entries[i], e.Message, e.Kind);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                failures[i] = new AssetFailure(entries[i], e.Message, FailureKind.Operational);
            }
        });
        var failed = failures.OfType<AssetFailure>().ToList();
        if (failed.Count > 0)
        {
            reporter.Error($"{failed.Count} of {entries.Count} entries failed:");
            foreach (var f in failed) reporter.Info($"  {f.Entry}: {f.Error}");
        }
        int Count(params string[] actions) => results.Count(r => r is not null && actions.Contains(r.Action));
        var result = new AssetPrefillResult(entries.Count, Count("download"), Count("hit", "revalidated", "local", "override"), Count("stale"), failed, timer.Elapsed.TotalSeconds);
        reporter.Info($"prefill: {result.Downloaded} downloaded, {result.UpToDate} up to date, {result.Stale} stale, {failed.Count} failed ({entries.Count} entries in {result.Seconds:0.00} s)");
        return (result, results);
    }

    /// <summary>
    /// The entries of a list file (<c>-</c>: stdin): one per line; blank lines and lines starting with
    /// '#' are skipped; the YAML list form (<c>- s3://…</c>, quoted or not) is read too.
    /// </summary>
    public static IReadOnlyList<string> ReadList(string path, TextReader? stdin = null)
    {
        string text;
        try
        {
            text = path == "-" ? (stdin ?? Console.In).ReadToEnd() : File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw S3PodException.Usage($"cannot read the list {path}: {(e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : e.Message)}");
        }
        var entries = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            if (line.StartsWith("- ", StringComparison.Ordinal)) line = line[2..].Trim();
            if (line.Length >= 2 && line[0] == line[^1] && line[0] is '"' or '\'') line = line[1..^1];
            if (line.Length > 0 && seen.Add(line)) entries.Add(line);
        }
        if (entries.Count == 0) throw S3PodException.Usage($"the list {path} has no entries");
        return entries;
    }
}
