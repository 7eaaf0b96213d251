// The floor of an unsigned HEAD through .NET's HTTP stack (HttpClient, thread pool, sockets).
using var http = new System.Net.Http.HttpClient();
using var response = await http.SendAsync(new System.Net.Http.HttpRequestMessage(System.Net.Http.HttpMethod.Head, args[0]));
System.Console.WriteLine((int)response.StatusCode);
return response.IsSuccessStatusCode ? 0 : 1;
