using S3Pod.Storage;

namespace S3Pod.Config;

/// <summary>
/// Resolves the access key pair: S3POD_S3_KEY_ID/S3POD_S3_SECRET > --key-file/--secret-file > files
/// named in the config > (null) the AWS SDK's default chain (env, profile, web identity, instance role).
/// </summary>
internal static class Credentials
{
    public sealed record Resolved(StaticCredentials? Static, string Source);

    public static Resolved Resolve(Settings settings, Func<string, string?> env)
    {
        var id = env("S3POD_S3_KEY_ID");
        var secret = env("S3POD_S3_SECRET");
        if (!string.IsNullOrEmpty(id) || !string.IsNullOrEmpty(secret))
        {
            if (string.IsNullOrEmpty(id) || string.IsNullOrEmpty(secret))
                throw S3PodException.Usage("set both S3POD_S3_KEY_ID and S3POD_S3_SECRET, or neither");
            return new(new StaticCredentials(id.Trim(), secret.Trim()), "environment (S3POD_S3_KEY_ID/S3POD_S3_SECRET)");
        }
        if (settings.KeyFile is not null || settings.SecretFile is not null)
        {
            if (settings.KeyFile is null || settings.SecretFile is null)
                throw S3PodException.Usage("give both a key file and a secret file, or neither");
            return new(new StaticCredentials(ReadSecretFile(settings.KeyFile, "key_file (--key-file)"), ReadSecretFile(settings.SecretFile, "secret_file (--secret-file)")),
                "files (key_file, secret_file)");
        }
        return new(null, "AWS default chain (AWS_* env, profile, web identity, instance role)");
    }

    /// <summary>Reads a mounted secret. Errors name the setting, never the value given for it: people
    /// do pass the secret itself where its file name belongs.</summary>
    public static string ReadSecretFile(string path, string setting)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            var why = e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : e is UnauthorizedAccessException ? "permission denied" : "not a readable file";
            throw S3PodException.Usage($"the file named by {setting} cannot be read: {why} (the value is not shown: it may be a secret)");
        }
        // Mounted secrets often end with a newline; a key never contains whitespace.
        text = text.Trim();
        if (text.Length == 0) throw S3PodException.Usage($"the file named by {setting} is empty");
        return text;
    }
}
