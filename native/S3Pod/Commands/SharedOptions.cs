using System.CommandLine;

namespace S3Pod.Commands;

/// <summary>Options that several command groups declare alike (cache, dir, docker, artifact, asset).</summary>
internal static class SharedOptions
{
    internal static Option<int> LevelOption() => new("--level") { Description = "zstd level 1-19", DefaultValueFactory = _ => 3, HelpName = "N" };

    internal static int ValidLevel(int level) => level is >= 1 and <= 19 ? level : throw S3PodException.Usage($"--level must be between 1 and 19, not {level}");
}
