namespace Containers.Build.Layering;

/// <summary>A layer to be: its name, kind and the publish files it holds, sorted by relative path.</summary>
/// <param name="Name">A stable, human-readable name (<c>runtime</c>, <c>packages</c>, <c>project-references</c>, a custom layer's name, <c>wwwroot</c>, <c>app</c>).</param>
/// <param name="Kind">Which of the default layers this is.</param>
/// <param name="Files">The files, ordinally sorted by <see cref="PublishedFile.RelativePath"/>.</param>
public sealed record PublishLayerGroup(string Name, PublishLayerKind Kind, IReadOnlyList<PublishedFile> Files);

/// <summary>A file of the publish output.</summary>
/// <param name="RelativePath">Its path relative to the publish directory, with '/' separators.</param>
/// <param name="FullPath">Its absolute path on the build machine.</param>
public sealed record PublishedFile(string RelativePath, string FullPath);
