namespace Containers.Build.Configuration;

/// <summary>How bad a <see cref="ContainerDiagnostic"/> is.</summary>
public enum ContainerDiagnosticSeverity
{
    /// <summary>Worth a line in the build log; nothing is wrong.</summary>
    Info,

    /// <summary>The image can be built, but probably not as intended.</summary>
    Warning,

    /// <summary>The image cannot be built from these settings.</summary>
    Error,
}

/// <summary>
/// One finding about the container settings: a stable code from <see cref="ContainerDiagnosticCodes"/>,
/// the MSBuild property or item it is about, and a one-line message that says what was given, what
/// was expected and how to fix it.
/// </summary>
/// <param name="Code">The code, <c>CONTAINER7xxx</c>.</param>
/// <param name="Severity">Error, warning or info.</param>
/// <param name="Property">The MSBuild property or item the finding is about, e.g. <c>ContainerPort</c>.</param>
/// <param name="Message">The user-facing message; it names <paramref name="Property"/>.</param>
public sealed record ContainerDiagnostic(string Code, ContainerDiagnosticSeverity Severity, string Property, string Message)
{
    /// <summary>True for <see cref="ContainerDiagnosticSeverity.Error"/>.</summary>
    public bool IsError => Severity == ContainerDiagnosticSeverity.Error;

    /// <summary><c>CODE: message</c>, the form a log line takes.</summary>
    public override string ToString() => $"{Code}: {Message}";

    internal static ContainerDiagnostic Create(ContainerDiagnosticCode code, string property, string message) =>
        new(code.Code, code.Severity, property, message);
}

/// <summary>
/// Thrown by <see cref="ContainerSettingsResolution.GetSettingsOrThrow"/> when the settings have errors;
/// <see cref="Diagnostics"/> holds every finding so the caller can log each with its own code.
/// </summary>
public sealed class ContainerSettingsException : Containers.Oci.OciException
{
    /// <summary>Creates the exception from the findings (at least one of them an error).</summary>
    public ContainerSettingsException(IReadOnlyList<ContainerDiagnostic> diagnostics)
        : base(string.Join(Environment.NewLine, (diagnostics ?? throw new ArgumentNullException(nameof(diagnostics))).Where(d => d.IsError)))
    {
        Diagnostics = diagnostics;
    }

    /// <summary>Every finding, errors and warnings.</summary>
    public IReadOnlyList<ContainerDiagnostic> Diagnostics { get; }
}
