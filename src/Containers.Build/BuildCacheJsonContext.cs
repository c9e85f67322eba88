using System.Text.Json.Serialization;
using Containers.Build.OsPackages;
using Containers.Build.Publishing;

namespace Containers.Build;

/// <summary>
/// The records Containers.Build keeps in its caches, serialized by generated code rather than reflection: the same code
/// runs in MSBuild and in the dotnet container tool, which is compiled ahead of time (Native AOT).
/// </summary>
[JsonSerializable(typeof(CachedLayerKey))]
[JsonSerializable(typeof(BaseImageSummary))]
internal sealed partial class BuildCacheJsonContext : JsonSerializerContext;
