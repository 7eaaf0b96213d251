// The floor of `s3pod exists` on a remote store: one HMAC-SHA256 (OpenSSL, as SigV4 needs) and a
// HEAD through HttpClient, without the AWS SDK. The sink ignores the header.
var signature = System.Security.Cryptography.HMACSHA256.HashData(new byte[32], System.Text.Encoding.UTF8.GetBytes(args[0]));
using var http = new System.Net.Http.HttpClient();
var request = new System.Net.Http.HttpRequestMessage(System.Net.Http.HttpMethod.Head, args[0]);
request.Headers.TryAddWithoutValidation("x-floor-signature", System.Convert.ToHexStringLower(signature));
using var response = await http.SendAsync(request);
System.Console.WriteLine((int)response.StatusCode);
return response.IsSuccessStatusCode ? 0 : 1;
