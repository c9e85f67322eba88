namespace Containers.Build.Layering;

/// <summary>
/// The default layers of a published app, from the one that changes least to the one that changes
/// most. Layers are stacked in this order, so a change to the app's own code leaves every layer below
/// it byte-identical, cached and already present in the registry.
/// </summary>
public enum PublishLayerKind
{
    /// <summary>The .NET runtime of a self-contained app (the deps.json <c>runtimepack</c> libraries).</summary>
    Runtime,

    /// <summary>NuGet package assets, including RID-specific native assets and satellite assemblies.</summary>
    Packages,

    /// <summary>Assemblies of project references (and their symbols and docs).</summary>
    ProjectReferences,

    /// <summary>A layer the user declared with a <c>ContainerLayer</c> item.</summary>
    Custom,

    /// <summary>Static web assets: everything under <c>wwwroot/</c>.</summary>
    StaticWebAssets,

    /// <summary>The app's own assemblies, configuration and content: everything else.</summary>
    Application,
}
