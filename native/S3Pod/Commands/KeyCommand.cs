using System.CommandLine;
using S3Pod.Keys;
using S3Pod.Output;
using S3Pod.Storage;

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
            var hashFrom = ctx.Parse.GetValue(HashFrom) ?? [];
            int hashLength = ctx.Parse.GetValue(HashLength);
            string? digest = hashFrom.Length == 0 ? null : await ContentHasher.DigestAsync(hashFrom, ctx.WorkingDirectory, ct);
            var key = ObjectKeys.Validate(KeyTemplate.Apply(ctx.Parse.GetValue(template)!, digest, hashLength, ctx.Settings.ArchSuffix), ctx.Settings.Prefix);
            ctx.Output.Write(new KeyResult(key, digest?[..Math.Min(hashLength, digest.Length)]), CliJson.Default.KeyResult, key);
            return ExitCodes.Success;
        });
        return command;
    }
}
