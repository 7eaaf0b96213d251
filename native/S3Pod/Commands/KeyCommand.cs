using System.CommandLine;
using S3Pod.Keys;
using S3Pod.Output;

namespace S3Pod.Commands;

/// <summary><c>s3pod key TEMPLATE [--hash-from PATH]...</c>: prints a key derived from file contents.</summary>
internal static class KeyCommand
{
    public static readonly Option<string[]> HashFrom = new("--hash-from") { Description = "File, directory or glob whose content goes into {hash} (repeatable)", HelpName = "PATH" };
    public static readonly Option<int> HashLength = new("--hash-length") { Description = "Hex characters of the digest to keep", DefaultValueFactory = _ => KeyTemplate.DefaultHashLength, HelpName = "N" };

    public static Command Create(CliApp app)
    {
        var template = new Argument<string>("template") { Description = "Key template, e.g. go-mod/{hash}.tar.zst" };
        var command = new Command("key", "Resolve a key template and print the key") { template, HashFrom, HashLength };
        app.Bind(command, async (ctx, ct) =>
        {
            var (key, digest) = await ResolveAsync(ctx, ctx.Parse.GetValue(template)!, ctx.Parse.GetValue(HashFrom) ?? [], ctx.Parse.GetValue(HashLength), ct);
            if (ctx.Json) ctx.WriteJson(new KeyResult(key, digest), S3PodJson.Default.KeyResult);
            else ctx.Stdout.WriteLine(key);
            return ExitCodes.Success;
        });
        return command;
    }

    public static async Task<(string Key, string? Hash)> ResolveAsync(RunContext ctx, string template, string[] hashFrom, int hashLength, CancellationToken ct)
    {
        string? digest = hashFrom.Length == 0 ? null : await ContentHasher.DigestAsync(hashFrom, ctx.WorkingDirectory, ct);
        var key = KeyTemplate.Apply(template, digest, hashLength, ctx.ArchSuffix);
        RunContext.ValidateKey(key);
        return (key, digest?[..Math.Min(hashLength, digest.Length)]);
    }
}
