namespace Containers.Oci.Layers;

/// <summary>A path given for a layer entry cannot be stored safely in a layer.</summary>
public sealed class InvalidLayerPathException : OciException
{
    /// <summary>Creates the exception for <paramref name="path"/>, saying <paramref name="reason"/>.</summary>
    public InvalidLayerPathException(string path, string reason)
        : base($"The layer path '{path}' cannot be used: {reason}. Use a path inside the image such as '/app/MyApp.dll'.")
    {
        Path = path;
    }

    /// <summary>The offending path, as given.</summary>
    public string Path { get; }
}
