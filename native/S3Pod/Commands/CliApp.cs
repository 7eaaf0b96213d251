using System.CommandLine;
using S3Pod.Output;

namespace S3Pod.Commands;

/// <summary>
/// Builds the command tree and runs one command line. The outside world (environment, stdout,
/// stderr, working directory, clock) comes in through the constructor so tests can drive the real
/// parser in-process; Program.cs passes the real ones.
/// </summary>
internal sealed class CliApp(Func<string, string?> env, TextWriter stdout, TextWriter stderr, bool stderrIsTerminal, string workingDirectory, TimeProvider? clock = null)
{
    public static string Version => BuildInfo.Version;

    private readonly Reporter _reporter = new(stderr, stderrIsTerminal);
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;

    public async Task<int> RunAsync(string[] args, CancellationToken ct)
    {
        var root = BuildRoot();
        if (args is [CompletionCommand.Hidden, .. var words]) return CompletionCommand.Complete(root, words, env, stdout);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            // System.CommandLine would print usage and return 1; our contract is one line and exit 2.
            var name = parse.CommandResult.Command == root ? "s3pod" : $"s3pod {string.Join(' ', CommandPath(parse))}";
            var message = $"{parse.Errors[0].Message} (see `{name} --help`)";
            _reporter.Error(message);
            if (args.Contains("--json")) new ResultWriter(stdout, true).Write(new ErrorResult(Redaction.Apply(message), ExitCodes.OperationalError), CliJson.Default.ErrorResult);
            return ExitCodes.OperationalError;
        }
        var config = new InvocationConfiguration
        {
            Output = stdout,
            Error = stderr,
            // Ctrl-C / job cancellation: give an in-flight multipart upload time to be aborted.
            ProcessTerminationTimeout = TimeSpan.FromSeconds(30),
            EnableDefaultExceptionHandler = false,
        };
        return await parse.InvokeAsync(config, ct);
    }

    private static IEnumerable<string> CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var r = parse.CommandResult; r.Parent is System.CommandLine.Parsing.CommandResult parent; r = parent) names.Insert(0, r.Command.Name);
        return names;
    }

    public RootCommand BuildRoot()
    {
        var root = new RootCommand("s3pod: fast, safe CI caches, versioned artifacts and pinned assets on any S3-compatible store");
        // Our own --version prints the bare version (the wrappers compare it); drop the built-in one.
        foreach (var o in root.Options.Where(o => o is VersionOption).ToList()) root.Options.Remove(o);
        var version = new Option<bool>("--version") { Description = "Print the version" };
        root.Options.Add(version);
        foreach (var option in GlobalOptions.All) root.Options.Add(option);
        Bind(root, (ctx, _) =>
        {
            if (!ctx.Parse.GetValue(version)) throw S3PodException.Usage("no command given (see `s3pod --help`)");
            ctx.Output.Write(new VersionResult(Version), CliJson.Default.VersionResult, Version);
            return Task.FromResult(ExitCodes.Success);
        });

        foreach (var command in new[]
        {
            KeyCommand.Create(this), FileCommands.Download(this), FileCommands.Upload(this), FileCommands.Exists(this),
            FileCommands.List(this), FileCommands.Delete(this), SetupCommands.Init(this), SetupCommands.Doctor(this),
            CacheCommands.Save(this), CacheCommands.Restore(this), CacheCommands.Explain(this), CacheCommands.Inspect(this),
            CacheCommands.Prune(this), DirCommands.Create(this), DockerCommands.Create(this),
            ArtifactCommands.Create(this),
            AssetCommands.Create(this),
            CompletionCommand.Create(), HelpText.HelpCommand(),
        })
        {
            root.Subcommands.Add(command);
        }
        HelpText.Attach(root);
        return root;
    }

    /// <summary>Binds a command to a handler that gets a <see cref="CommandContext"/>, and maps failures
    /// to the exit-code contract: one stderr line, and with --json exactly one JSON object.</summary>
    public void Bind(Command command, Func<CommandContext, CancellationToken, Task<int>> handler)
    {
        command.SetAction(async (parse, ct) =>
        {
            var output = new ResultWriter(stdout, parse.GetValue(GlobalOptions.Json));
            await using var context = new CommandContext(parse, env, output, _reporter, workingDirectory, _clock);
            try
            {
                return await handler(context, ct);
            }
            catch (S3PodException e)
            {
                return Fail(output, e.Message, ExitCodes.For(e.Kind));
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return Fail(output, "cancelled; nothing was left half-written", ExitCodes.OperationalError);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A path the OS refused where no caller put it into words (.NET's messages name the path):
                // an operational error of the user's machine, not a bug.
                if (env("S3POD_DEBUG") is { Length: > 0 }) stderr.WriteLine(e.ToString());
                var what = e is UnauthorizedAccessException ? "permission denied" : "file system error";
                return Fail(output, $"{what}: {e.Message.ReplaceLineEndings(" ")}", ExitCodes.OperationalError);
            }
            catch (Exception e)
            {
                // A bug, not an expected failure: say so, and show the stack only when asked.
                if (env("S3POD_DEBUG") is { Length: > 0 }) stderr.WriteLine(e.ToString());
                return Fail(output, $"internal error: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}", ExitCodes.OperationalError);
            }
        });
    }

    private int Fail(ResultWriter output, string message, int exitCode)
    {
        _reporter.Error(message);
        if (output.Json && !output.Written) output.Write(new ErrorResult(Redaction.Apply(message), exitCode), CliJson.Default.ErrorResult);
        return exitCode;
    }
}
