namespace Containers.Build;

/// <summary>Writes a whole file so that a reader sees the old content or the new one, never a part: beside it, then renamed over it.</summary>
internal static class AtomicFile
{
    /// <summary>Writes <paramref name="content"/> to <paramref name="path"/>; the temporary file is removed when writing fails.</summary>
    public static void Write(string path, ReadOnlySpan<byte> content)
    {
        var temporaryPath = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            using (var file = new FileStream(temporaryPath, FileMode.CreateNew, FileAccess.Write))
            {
                file.Write(content);
            }

            File.Move(temporaryPath, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporaryPath);
            throw;
        }
    }
}
