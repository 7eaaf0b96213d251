// The floor of `s3pod key --hash-from FILE`: hello plus OpenSSL (SHA-256 of one file).
var digest = System.Security.Cryptography.SHA256.HashData(System.IO.File.ReadAllBytes(args[0]));
System.Console.WriteLine(System.Convert.ToHexStringLower(digest)[..16]);
