namespace Containers.Host.Lifecycle;

/// <summary>What a command run in a container with <see cref="RunningContainer.ExecAsync"/> did.</summary>
/// <param name="ExitCode">Its exit code (128 + the signal's number when a signal ended it).</param>
/// <param name="StandardOutput">Everything it wrote to stdout.</param>
/// <param name="StandardError">Everything it wrote to stderr.</param>
public sealed record ContainerExecResult(int ExitCode, string StandardOutput, string StandardError);
