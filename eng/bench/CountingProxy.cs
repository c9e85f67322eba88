// A TCP proxy on 127.0.0.1 that forwards to a registry and counts the bytes clients send through it.
// Used by publish-benchmark.sh to measure what each container tool uploads.
// Usage: dotnet run CountingProxy.cs -- <listen-port> <target-port> <count-file>
// The count file holds "<bytes-from-clients>", rewritten every 100 ms (connections may stay open in pools).
using System.Net;
using System.Net.Sockets;

var listenPort = int.Parse(args[0]);
var targetPort = int.Parse(args[1]);
var countFile = args[2];
long uploaded = 0;
var listener = new TcpListener(IPAddress.Loopback, listenPort);
listener.Start();
File.WriteAllText(countFile, "0");
_ = Task.Run(async () =>
{
    long written = -1;
    while (true)
    {
        await Task.Delay(100);
        var now = Interlocked.Read(ref uploaded);
        if (now != written)
        {
            File.WriteAllText(countFile + ".tmp", now.ToString());
            File.Move(countFile + ".tmp", countFile, overwrite: true);
            written = now;
        }
    }
});
while (true)
{
    var client = await listener.AcceptTcpClientAsync();
    _ = Task.Run(async () =>
    {
        using (client)
        using (var server = new TcpClient())
        {
            await server.ConnectAsync(IPAddress.Loopback, targetPort);
            var up = Pump(client.GetStream(), server.GetStream(), n => Interlocked.Add(ref uploaded, n));
            var down = Pump(server.GetStream(), client.GetStream(), _ => { });
            await Task.WhenAny(up, down);
        }
    });
}

static async Task Pump(Stream from, Stream to, Action<int> count)
{
    var buffer = new byte[81920];
    try
    {
        int read;
        while ((read = await from.ReadAsync(buffer)) > 0)
        {
            count(read);
            await to.WriteAsync(buffer.AsMemory(0, read));
        }
    }
    catch (IOException)
    {
    }

    try
    {
        to.Close();
    }
    catch (IOException)
    {
    }
}
