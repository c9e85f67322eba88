using System.Globalization;

namespace Containers.Host.Lifecycle;

/// <summary>What a container's exit code means, for messages: above 128 it is 128 + the number of the signal that ended the process.</summary>
internal static class ExitCodes
{
    private static readonly string[] SignalNames =
    [
        "", "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL", "SIGUSR1", "SIGSEGV",
        "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU",
        "SIGURG", "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
    ];

    /// <summary>
    /// <c>139 (killed by signal SIGSEGV …)</c>: the code, and for a code above 128 the signal and what usually sends it;
    /// a code of 128 or less as it is.
    /// </summary>
    public static string Describe(int code)
    {
        var text = code.ToString(CultureInfo.InvariantCulture);
        if (code is <= 128 or >= 128 + 32)
        {
            return text;
        }

        var signal = code - 128;
        var why = signal switch
        {
            // glibc's abort() raises SIGABRT; the first process of a PID namespace gets no signal it has no handler for, so
            // abort() then runs an instruction that faults (hlt on x86-64): SIGSEGV, which the kernel forces through.
            11 => " — a crash; also how a .NET app ends on an unhandled exception when it is the container's first process (PID 1): .NET aborts (SIGABRT, 134 elsewhere), process 1 does not receive it, and abort() then faults. Its exception, if any, is in the output",
            6 => " — abort(); how a .NET app ends on an unhandled exception (shown in the output)",
            9 => " — killed: beyond its memory limit, or stopped by force",
            15 => " — asked to stop",
            2 => " — interrupted",
            _ => "",
        };
        return $"{text} (killed by signal {SignalNames[signal]}{why})";
    }
}
