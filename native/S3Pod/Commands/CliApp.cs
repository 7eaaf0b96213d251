using System.CommandLine;
using S3Pod.Output;

namespace S3Pod.Commands;

/// <summary>
/// Builds the command tree and runs one command line. The outside world (environment, stdout,
/// stderr, working directory) comes in through the constructor so tests can drive the real parser
/// in-process; Program.cs passes the real ones.
/// </summary>
internal sealed class CliApp(Func<string, string?> env, TextWriter stdout, TextWriter stderr, bool stderrIsTerminal, string workingDirectory)
{
    public static string Version =>
        typeof(CliApp).Assembly.GetName().Version is { } v ? $"{v.Major}.{v.Minor}.{v.Build}" : "0.0.0";

    private readonly Reporter _reporter = new(stderr, stderrIsTerminal);

    public async Task<int> RunAsync(string[] args, CancellationToken ct)
    {
        var root = BuildRoot();
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            // System.CommandLine would print usage and return 1; our contract is one line and exit 2.
            var command = parse.CommandResult.Command;
            var name = command == root ? "s3pod" : $"s3pod {string.Join(' ', CommandPath(parse))}";
            _reporter.Error($"{parse.Errors[0].Message} (see `{name} --help`)");
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
        var root = new RootCommand("s3pod: fast, safe CI caches and artifacts on any S3-compatible store");
        // Our own --version prints the bare version (the wrappers compare it); drop the built-in one.
        foreach (var o in root.Options.Where(o => o is VersionOption).ToList()) root.Options.Remove(o);
        var version = new Option<bool>("--version") { Description = "Print the version" };
        root.Options.Add(version);
        foreach (var option in GlobalOptions.All) root.Options.Add(option);
        root.SetAction((parse, ct) =>
        {
            if (parse.GetValue(version))
            {
                if (parse.GetValue(GlobalOptions.Json)) stdout.WriteLine(System.Text.Json.JsonSerializer.Serialize(new VersionResult(Version), S3PodJson.Default.VersionResult));
                else stdout.WriteLine(Version);
                return Task.FromResult(ExitCodes.Success);
            }
            _reporter.Error("no command given (see `s3pod --help`)");
            return Task.FromResult(ExitCodes.OperationalError);
        });

        foreach (var command in new[]
        {
            KeyCommand.Create(this), FileCommands.Download(this), FileCommands.Upload(this), FileCommands.Exists(this),
            FileCommands.List(this), FileCommands.Delete(this), SetupCommands.Init(this), SetupCommands.Doctor(this),
            CacheCommands.Save(this), CacheCommands.Restore(this), CacheCommands.Inspect(this), CacheCommands.Prune(this),
            DirCommands.Create(this), Docker.DockerCommands.Create(this),
        })
        {
            root.Subcommands.Add(command);
        }
        return root;
    }

    /// <summary>Binds a command to a body that gets a <see cref="RunContext"/>, and maps failures to the exit-code contract.</summary>
    public void Bind(Command command, Func<RunContext, CancellationToken, Task<int>> body)
    {
        command.SetAction(async (parse, ct) =>
        {
            var context = new RunContext(parse, env, stdout, _reporter, workingDirectory);
            try
            {
                return await body(context, ct);
            }
            catch (S3PodException e)
            {
                _reporter.Error(e.Message);
                if (context.Json) context.WriteJson(new ErrorResult(e.Message, e.ExitCode), S3PodJson.Default.ErrorResult);
                return e.ExitCode;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                _reporter.Error("cancelled; nothing was left half-written");
                return ExitCodes.OperationalError;
            }
            catch (Exception e)
            {
                // A bug, not an expected failure: say so, and show the stack only when asked.
                _reporter.Error($"internal error: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
                if (env("S3POD_DEBUG") is { Length: > 0 }) stderr.WriteLine(e.ToString());
                return ExitCodes.OperationalError;
            }
            finally
            {
                await context.DisposeAsync();
            }
        });
    }
}
