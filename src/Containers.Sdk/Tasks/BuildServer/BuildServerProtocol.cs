using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Containers.Sdk.Tasks.BuildServer;

/// <summary>An item on the wire: its include and custom metadata, both MSBuild-escaped so they round-trip exactly.</summary>
internal sealed class WireItem
{
    public string Spec { get; set; } = "";

    public Dictionary<string, string> Metadata { get; set; } = [];
}

/// <summary>A task parameter on the wire: a string, or items.</summary>
internal sealed class WireParameter
{
    public string? Value { get; set; }

    public List<WireItem>? Items { get; set; }
}

/// <summary>What a build asks the server to run: the task, its parameters and the build's environment.</summary>
internal sealed class ServerRequest
{
    public int Protocol { get; set; }

    public string TaskName { get; set; } = "";

    public Dictionary<string, WireParameter> Parameters { get; set; } = [];

    public Dictionary<string, string> Environment { get; set; } = [];

    public string CurrentDirectory { get; set; } = "";

    public string? ProjectFile { get; set; }

    public string? ProjectFullPath { get; set; }
}

/// <summary>What the server sends back: log events while the task runs, then its result (or at once: busy).</summary>
internal sealed class ServerMessage
{
    public const string Busy = "busy", Message = "message", Warning = "warning", Error = "error", Result = "result";

    public string Kind { get; set; } = "";

    public string? Text { get; set; }

    public int Importance { get; set; }

    public string? Code { get; set; }

    public string? Subcategory { get; set; }

    public string? HelpKeyword { get; set; }

    public string? File { get; set; }

    public int Line { get; set; }

    public int Column { get; set; }

    public int EndLine { get; set; }

    public int EndColumn { get; set; }

    public bool Success { get; set; }

    public int ServerProcessId { get; set; }

    public Dictionary<string, WireParameter>? Outputs { get; set; }
}

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ServerRequest))]
[JsonSerializable(typeof(ServerMessage))]
internal sealed partial class BuildServerJson : JsonSerializerContext;

/// <summary>Length-prefixed JSON frames over a Unix domain socket.</summary>
internal static class BuildServerFrames
{
    /// <summary>Bumped when a message changes shape; part of the socket name, so old and new never talk.</summary>
    public const int ProtocolVersion = 1;

    private const int MaxFrameBytes = 64 * 1024 * 1024;

    /// <summary>True when a server listens on <paramref name="socketPath"/>; false for a socket file a dead server left.</summary>
    public static bool Answers(string socketPath)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(socketPath));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public static void Write<T>(Socket socket, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(value, type);
        var frame = new byte[4 + body.Length];
        BinaryPrimitives.WriteInt32LittleEndian(frame, body.Length);
        body.CopyTo(frame, 4);
        var sent = 0;
        while (sent < frame.Length)
        {
            sent += socket.Send(frame, sent, frame.Length - sent, SocketFlags.None);
        }
    }

    /// <summary>The next frame, or null when the other side closed the connection.</summary>
    public static T? Read<T>(Socket socket, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        where T : class
    {
        var header = new byte[4];
        if (!ReadExactly(socket, header))
        {
            return null;
        }

        var length = BinaryPrimitives.ReadInt32LittleEndian(header);
        if (length is < 0 or > MaxFrameBytes)
        {
            throw new InvalidDataException($"A build server frame of {length} bytes is out of range.");
        }

        var body = new byte[length];
        return ReadExactly(socket, body) ? JsonSerializer.Deserialize(body, type) : null;
    }

    private static bool ReadExactly(Socket socket, byte[] buffer)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var count = socket.Receive(buffer, read, buffer.Length - read, SocketFlags.None);
            if (count == 0)
            {
                return false;
            }

            read += count;
        }

        return true;
    }
}
