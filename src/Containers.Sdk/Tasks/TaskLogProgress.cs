using Containers.Build.Publishing;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Containers.Sdk.Tasks;

/// <summary>
/// Writes the publisher's and rebaser's progress lines to the build log at high importance. Synchronous on
/// purpose: <see cref="Progress{T}"/> would post to the thread pool, possibly after the task's Execute returned.
/// </summary>
internal sealed class TaskLogProgress(TaskLoggingHelper log) : IProgress<PublishProgress>
{
    public void Report(PublishProgress value) => log.LogMessage(MessageImportance.High, "  " + value.Message);
}
