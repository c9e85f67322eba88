using System.Runtime.InteropServices;

// Prints where it runs: a quick check that the image starts, with the arguments the image passes.
Console.WriteLine($"Hello from ConsoleApp on {RuntimeInformation.OSDescription} ({RuntimeInformation.ProcessArchitecture}), .NET {Environment.Version}");
Console.WriteLine($"Working directory: {Environment.CurrentDirectory}, user id: {Environment.GetEnvironmentVariable("APP_UID") ?? "unknown"}");
if (args.Length > 0)
{
    Console.WriteLine($"Arguments: {string.Join(' ', args)}");
}
