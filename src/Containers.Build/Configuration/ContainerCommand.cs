namespace Containers.Build.Configuration;

/// <summary>ContainerAppCommandInstruction: how the app command goes into the image.</summary>
public enum AppCommandInstruction
{
    /// <summary>The app command (and its args) is the ENTRYPOINT; the default unless ContainerEntrypoint is set.</summary>
    Entrypoint,

    /// <summary>The app command goes first in CMD, after the ENTRYPOINT (ContainerEntrypoint or the base image's).</summary>
    DefaultArgs,

    /// <summary>The app command is not used; ENTRYPOINT and CMD come from ContainerEntrypoint and ContainerDefaultArgs.</summary>
    None,
}

/// <summary>The ENTRYPOINT and CMD the image gets.</summary>
/// <param name="Entrypoint">The entrypoint; null keeps the base image's (a bare <c>dotnet</c> entrypoint of a base image is dropped, as the SDK does).</param>
/// <param name="Cmd">The CMD; empty means none (the base image's CMD is never kept, as in the SDK).</param>
/// <param name="ReplacesBaseEntrypoint">True when the instruction was defaulted to Entrypoint, so a base image entrypoint other than <c>dotnet</c> is replaced with a warning.</param>
public sealed record ContainerCommand(IReadOnlyList<string>? Entrypoint, IReadOnlyList<string> Cmd, bool ReplacesBaseEntrypoint)
{
    /// <summary>The base image entrypoints that are dropped rather than kept: Microsoft's images set <c>dotnet</c>.</summary>
    public static bool IsDotnetHostEntrypoint(IReadOnlyList<string>? entrypoint) =>
        entrypoint is [var only] && only is "dotnet" or "/usr/bin/dotnet";
}

/// <summary>
/// Turns ContainerEntrypoint(+Args), ContainerAppCommand(+Args), ContainerAppCommandInstruction and
/// ContainerDefaultArgs into ENTRYPOINT and CMD with the rules of the SDK's <c>CreateNewImage</c>.
/// </summary>
internal static class ContainerCommandResolver
{
    public static ContainerCommand? Resolve(
        IReadOnlyList<string> entrypoint,
        IReadOnlyList<string> entrypointArgs,
        IReadOnlyList<string> defaultArgs,
        IReadOnlyList<string> appCommand,
        IReadOnlyList<string> appCommandArgs,
        AppCommandInstruction? instruction,
        List<ContainerDiagnostic> diagnostics)
    {
        var setsEntrypoint = entrypoint.Count > 0 || entrypointArgs.Count > 0;
        var cmd = defaultArgs;
        var replacesBaseEntrypoint = false;

        if (instruction is null)
        {
            if (setsEntrypoint)
            {
                if (defaultArgs.Count == 0 && appCommandArgs.Count == 0 && entrypoint.Count == 0)
                {
                    // The form from before ContainerAppCommand existed: EntrypointArgs alone meant
                    // "arguments after the app". The SDK maps it the same way.
                    diagnostics.Add(ContainerDiagnostic.Create(
                        ContainerDiagnosticCodes.EntrypointArgsPreferAppCommandArgs,
                        "ContainerEntrypointArgs",
                        "ContainerEntrypointArgs is set without ContainerEntrypoint; its items become the image's CMD after the app command. Use ContainerAppCommandArgs for arguments that must always be passed, or ContainerDefaultArgs for arguments users may override."));
                    return new ContainerCommand(appCommand.ToArray(), entrypointArgs.ToArray(), false);
                }

                instruction = AppCommandInstruction.DefaultArgs;
            }
            else
            {
                instruction = AppCommandInstruction.Entrypoint;
                replacesBaseEntrypoint = true;
            }
        }

        if (entrypointArgs.Count > 0 && entrypoint.Count == 0)
        {
            diagnostics.Add(ContainerDiagnostic.Create(
                ContainerDiagnosticCodes.EntrypointArgsWithoutEntrypoint,
                "ContainerEntrypointArgs",
                $"ContainerEntrypointArgs is set but ContainerEntrypoint is empty (ContainerAppCommandInstruction is {instruction}). Set ContainerEntrypoint, or move the arguments to ContainerAppCommandArgs or ContainerDefaultArgs."));
            return null;
        }

        if (appCommandArgs.Count > 0 && appCommand.Count == 0)
        {
            diagnostics.Add(ContainerDiagnostic.Create(
                ContainerDiagnosticCodes.AppCommandArgsWithoutAppCommand,
                "ContainerAppCommandArgs",
                $"ContainerAppCommandArgs is set but there is no app command (ContainerAppCommandInstruction is {instruction}). Set ContainerAppCommand, or use ContainerDefaultArgs or ContainerEntrypointArgs instead."));
            return null;
        }

        switch (instruction)
        {
            case AppCommandInstruction.None:
                if (appCommand.Count > 0)
                {
                    diagnostics.Add(ContainerDiagnostic.Create(
                        ContainerDiagnosticCodes.AppCommandNotUsed,
                        "ContainerAppCommand",
                        "ContainerAppCommand is set but ContainerAppCommandInstruction is None, so it would be ignored. Remove ContainerAppCommand, or set ContainerAppCommandInstruction to Entrypoint or DefaultArgs."));
                    return null;
                }

                break;
            case AppCommandInstruction.DefaultArgs:
                cmd = [.. appCommand, .. appCommandArgs, .. defaultArgs];
                break;
            default:
                if (setsEntrypoint)
                {
                    diagnostics.Add(ContainerDiagnostic.Create(
                        ContainerDiagnosticCodes.EntrypointConflictsWithAppCommand,
                        "ContainerEntrypoint",
                        "ContainerEntrypoint is set while ContainerAppCommandInstruction is Entrypoint, so the app command and ContainerEntrypoint both claim the ENTRYPOINT. Set ContainerAppCommandInstruction to DefaultArgs to run the app command after your entrypoint, or to None to use only your entrypoint."));
                    return null;
                }

                return new ContainerCommand(appCommand.Count > 0 ? [.. appCommand, .. appCommandArgs] : null, cmd.ToArray(), replacesBaseEntrypoint);
        }

        return new ContainerCommand(entrypoint.Count > 0 ? [.. entrypoint, .. entrypointArgs] : null, cmd.ToArray(), false);
    }
}
