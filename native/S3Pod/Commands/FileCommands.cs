using System.CommandLine;
using System.Diagnostics;
using System.Security.Cryptography;
using S3Pod.Output;
using S3Pod.Storage;

namespace S3Pod.Commands;

/// <summary>ci-cacher's single-file commands: download (fetch-or-download), upload, exists, list, delete.
/// Objects are stored as their raw bytes, with their sha256 as metadata, so other S3 tools read them.</summary>
internal static class FileCommands
{
    public static Command Download(CliApp app)
    {
        var key = new Argument<string>("key");
        var dest = new Argument<string>("dest") { Description = "Where to write the file" };
        var url = new Option<string?>("--url") { Description = "On a miss, download from this URL and store it for next time" };
        var sha = new Option<string?>("--sha256") { Description = "Expected sha256 of the file (verified on hit and on URL download)", HelpName = "HEX" };
        var command = new Command("download", "Fetch a file from the cache; on a miss, from --url (then cache it)") { key, dest, url, sha };
        app.Bind(command, async (ctx, ct) =>
        {
            var storeKey = ctx.StoreKey(ctx.Parse.GetValue(key)!);
            var destPath = ctx.ResolvePath(ctx.Parse.GetValue(dest)!);
            var expected = NormalizeSha(ctx.Parse.GetValue(sha));
            var sourceUrl = ctx.Parse.GetValue(url);
            if (sourceUrl is not null && (!Uri.TryCreate(sourceUrl, UriKind.Absolute, out var u) || (u.Scheme != "http" && u.Scheme != "https")))
                throw S3PodException.Usage($"--url '{sourceUrl}' is not an http:// or https:// URL");
            if (Directory.Exists(destPath)) throw S3PodException.Usage($"destination {destPath} is a directory");
            var clock = Stopwatch.StartNew();

            var opened = await ctx.Store.OpenReadAsync(storeKey, null, ct);
            if (opened is { } hit)
            {
                using var progress = ctx.Reporter.Progress($"download {storeKey}", hit.Info.Size);
                await using var content = new ProgressStream(hit.Content, progress.Report);
                var actual = await WriteVerifiedAsync(content, destPath, ct, (hash, size) =>
                {
                    if (hit.Info.Sha256 is { } recorded && !recorded.Equals(hash, StringComparison.OrdinalIgnoreCase))
                        throw S3PodException.Integrity($"{storeKey}: sha256 mismatch (stored object {hash}, recorded {recorded}); {destPath} left untouched");
                    if (expected is not null && expected != hash)
                        throw S3PodException.Integrity($"{storeKey}: sha256 {hash} does not match --sha256 {expected}; {destPath} left untouched");
                    if (size != hit.Info.Size)
                        throw S3PodException.Integrity($"{storeKey}: got {size} bytes, expected {hit.Info.Size}");
                });
                ctx.Reporter.Info($"HIT {storeKey} -> {destPath} ({TransferProgress.Size(hit.Info.Size)} in {clock.Elapsed.TotalSeconds:0.00} s)");
                if (ctx.Json) ctx.WriteJson(new TransferResult(storeKey, "download", hit.Info.Size, clock.Elapsed.TotalSeconds, actual, "cache", destPath), S3PodJson.Default.TransferResult);
                return ExitCodes.Success;
            }

            if (sourceUrl is null)
            {
                ctx.Reporter.Info($"MISS {storeKey} (no --url given)");
                if (ctx.Json) ctx.WriteJson(new TransferResult(storeKey, "miss", 0, clock.Elapsed.TotalSeconds, Path: destPath), S3PodJson.Default.TransferResult);
                return ExitCodes.CacheMiss;
            }

            ctx.Reporter.Info($"MISS {storeKey}; downloading {RedactUrl(sourceUrl)}");
            string hashHex;
            long bytes;
            using (var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = true, MaxAutomaticRedirections = 10 }) { Timeout = Timeout.InfiniteTimeSpan })
            {
                HttpResponseMessage response;
                try
                {
                    response = await http.GetAsync(sourceUrl, HttpCompletionOption.ResponseHeadersRead, ct);
                }
                catch (HttpRequestException e)
                {
                    throw S3PodException.Operational($"cannot download {RedactUrl(sourceUrl)}: {e.Message}", e);
                }
                using (response)
                {
                    if (!response.IsSuccessStatusCode)
                        throw S3PodException.Operational($"cannot download {RedactUrl(sourceUrl)}: HTTP {(int)response.StatusCode} {response.ReasonPhrase}");
                    using var progress = ctx.Reporter.Progress($"download {RedactUrl(sourceUrl)}", response.Content.Headers.ContentLength);
                    await using var body = new ProgressStream(await response.Content.ReadAsStreamAsync(ct), progress.Report);
                    long got = 0;
                    hashHex = await WriteVerifiedAsync(body, destPath, ct, (hash, size) =>
                    {
                        got = size;
                        if (expected is not null && expected != hash)
                            throw S3PodException.Integrity($"{RedactUrl(sourceUrl)}: sha256 {hash} does not match --sha256 {expected}; nothing written or cached");
                    });
                    bytes = got;
                }
            }

            // The file is in place; failing to cache it only costs the next run a download.
            try
            {
                await using var file = OpenForRead(destPath);
                await ctx.Store.PutAsync(storeKey, file, new PutOptions
                {
                    Condition = WriteCondition.IfAbsent,
                    Length = bytes,
                    Metadata = new Dictionary<string, string> { [MetadataKeys.Sha256] = hashHex },
                }, ct);
                ctx.Reporter.Info($"cached {storeKey} ({TransferProgress.Size(bytes)})");
            }
            catch (S3PodException e) when (e.ExitCode == ExitCodes.Conflict)
            {
                ctx.Reporter.Info($"{storeKey} was cached meanwhile by another job");
            }
            catch (S3PodException e)
            {
                ctx.Reporter.Warn($"downloaded {destPath} but could not cache it: {e.Message}");
            }
            if (ctx.Json) ctx.WriteJson(new TransferResult(storeKey, "download", bytes, clock.Elapsed.TotalSeconds, hashHex, "url", destPath), S3PodJson.Default.TransferResult);
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Upload(CliApp app)
    {
        var key = new Argument<string>("key");
        var path = new Argument<string>("path") { Description = "File to upload" };
        var force = new Option<bool>("--force") { Description = "Overwrite an existing object" };
        var command = new Command("upload", "Store a file under a key (skipped when the key exists, unless --force)") { key, path, force };
        app.Bind(command, async (ctx, ct) =>
        {
            var storeKey = ctx.StoreKey(ctx.Parse.GetValue(key)!);
            var source = ctx.ResolvePath(ctx.Parse.GetValue(path)!);
            bool overwrite = ctx.Parse.GetValue(force);
            var clock = Stopwatch.StartNew();
            await using var file = OpenForRead(source);
            if (!overwrite && await ctx.Store.HeadAsync(storeKey, ct) is not null)
                return ctx.SkippedUpload(storeKey, "upload", source, clock.Elapsed, meanwhile: false);
            // The sha256 goes into the object's metadata, which S3 takes before the body: hash first.
            var hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(file, ct));
            file.Position = 0;
            long length = file.Length;
            using var progress = ctx.Reporter.Progress($"upload {storeKey}", length);
            try
            {
                await ctx.Store.PutAsync(storeKey, file, new PutOptions
                {
                    Condition = overwrite ? WriteCondition.None : WriteCondition.IfAbsent,
                    Length = length,
                    Metadata = new Dictionary<string, string> { [MetadataKeys.Sha256] = hash },
                    Progress = progress.Report,
                }, ct);
            }
            catch (S3PodException e) when (e.ExitCode == ExitCodes.Conflict && !overwrite)
            {
                return ctx.SkippedUpload(storeKey, "upload", source, clock.Elapsed, meanwhile: true);
            }
            ctx.Reporter.Info($"uploaded {source} -> {storeKey} ({TransferProgress.Size(length)} in {clock.Elapsed.TotalSeconds:0.00} s)");
            if (ctx.Json) ctx.WriteJson(new TransferResult(storeKey, "upload", length, clock.Elapsed.TotalSeconds, hash, Path: source), S3PodJson.Default.TransferResult);
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Exists(CliApp app)
    {
        var key = new Argument<string>("key");
        var command = new Command("exists", "Exit 0 when the key exists, 1 when it does not") { key };
        app.Bind(command, async (ctx, ct) =>
        {
            var storeKey = ctx.StoreKey(ctx.Parse.GetValue(key)!);
            var info = await ctx.Store.HeadAsync(storeKey, ct);
            if (ctx.Json) ctx.WriteJson(new ExistsResult(storeKey, info is not null, info?.Size, info?.LastModified), S3PodJson.Default.ExistsResult);
            return info is null ? ExitCodes.NotFound : ExitCodes.Success;
        });
        return command;
    }

    public static Command List(CliApp app)
    {
        var prefix = new Argument<string?>("prefix") { Description = "Only keys starting with this", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("list", "List keys (one per line; --json adds size and last-modified)") { prefix };
        app.Bind(command, async (ctx, ct) =>
        {
            var p = ctx.Parse.GetValue(prefix) ?? "";
            var entries = new List<ListEntry>();
            await foreach (var o in ctx.Store.ListAsync(p, ct))
            {
                if (ctx.Json) entries.Add(new ListEntry(o.Key, o.Size, o.LastModified));
                else ctx.Stdout.WriteLine(o.Key);
            }
            if (ctx.Json) ctx.WriteJson(new ListResult(p, entries), S3PodJson.Default.ListResult);
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command Delete(CliApp app)
    {
        var key = new Argument<string>("key");
        var command = new Command("delete", "Delete a key (exit 1 when it was not there)") { key };
        app.Bind(command, async (ctx, ct) =>
        {
            var storeKey = ctx.StoreKey(ctx.Parse.GetValue(key)!);
            bool deleted = await ctx.Store.DeleteAsync(storeKey, ct);
            ctx.Reporter.Info(deleted ? $"deleted {storeKey}" : $"{storeKey} not found");
            if (ctx.Json) ctx.WriteJson(new DeleteResult(storeKey, deleted), S3PodJson.Default.DeleteResult);
            return deleted ? ExitCodes.Success : ExitCodes.NotFound;
        });
        return command;
    }

    internal static FileStream OpenForRead(string path)
    {
        try
        {
            if (Directory.Exists(path)) throw S3PodException.Usage($"{path} is a directory (use `s3pod dir upload`)");
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw S3PodException.Usage($"cannot read {path}: no such file");
        }
        catch (UnauthorizedAccessException)
        {
            throw S3PodException.Usage($"cannot read {path}: permission denied");
        }
    }

    /// <summary>
    /// Streams into a temp file next to <paramref name="destPath"/>, hashing on the way; the check
    /// runs before the rename, so a failed check leaves the destination as it was.
    /// </summary>
    internal static async Task<string> WriteVerifiedAsync(Stream content, string destPath, CancellationToken ct, Action<string, long> check)
    {
        var dir = Path.GetDirectoryName(destPath)!;
        try
        {
            Directory.CreateDirectory(dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw S3PodException.Operational($"cannot create {dir}: {e.Message}");
        }
        var temp = Path.Combine(dir, $".{Path.GetFileName(destPath)}.s3pod-{Guid.NewGuid():N}");
        try
        {
            using var hasher = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long size = 0;
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, FileOptions.Asynchronous))
            {
                var buffer = new byte[1 << 20];
                int n;
                while ((n = await content.ReadAsync(buffer, ct)) > 0)
                {
                    hasher.AppendData(buffer, 0, n);
                    await file.WriteAsync(buffer.AsMemory(0, n), ct);
                    size += n;
                }
            }
            var hash = Convert.ToHexStringLower(hasher.GetHashAndReset());
            check(hash, size);
            File.Move(temp, destPath, overwrite: true);
            return hash;
        }
        catch (IOException e) when (e.HResult == 28 || e.Message.Contains("No space", StringComparison.OrdinalIgnoreCase))
        {
            throw S3PodException.Operational($"disk full while writing {destPath}; nothing was left behind");
        }
        catch (UnauthorizedAccessException)
        {
            throw S3PodException.Operational($"cannot write {destPath}: permission denied");
        }
        finally
        {
            try { File.Delete(temp); } catch { /* already moved or never created */ }
        }
    }

    private static string? NormalizeSha(string? sha)
    {
        if (sha is null) return null;
        var s = sha.Trim().ToLowerInvariant();
        if (s.Length != 64 || !s.All(Uri.IsHexDigit)) throw S3PodException.Usage($"--sha256 '{sha}' is not 64 hex characters");
        return s;
    }

    /// <summary>URLs may carry tokens in their query or user info: show only scheme, host and path.</summary>
    internal static string RedactUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var u) ? $"{u.Scheme}://{u.Host}{(u.IsDefaultPort ? "" : ":" + u.Port)}{u.AbsolutePath}" : "(url)";
}
