namespace Containers.TestSupport;

/// <summary>
/// A new, empty directory under the system's temporary directory, deleted with everything in it on
/// <see cref="Dispose"/>. Converts to its path, so a test keeps using it where a string is wanted.
/// </summary>
public sealed class TemporaryDirectory : IDisposable
{
    /// <summary>Creates the directory; its name starts with <paramref name="prefix"/>.</summary>
    public TemporaryDirectory(string prefix) => Path = Directory.CreateTempSubdirectory(prefix).FullName;

    /// <summary>The directory's full path.</summary>
    public string Path { get; }

    /// <summary>The directory's full path.</summary>
    public static implicit operator string(TemporaryDirectory directory) => directory.Path;

    /// <summary>Deletes the directory and everything in it.</summary>
    public void Dispose() => Directory.Delete(Path, recursive: true);

    /// <inheritdoc />
    public override string ToString() => Path;
}
