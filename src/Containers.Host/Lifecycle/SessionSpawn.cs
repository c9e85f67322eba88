using System.ComponentModel;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace Containers.Host.Lifecycle;

/// <summary>
/// Starts a program in a session of its own with one <c>posix_spawn</c> (glibc's <c>POSIX_SPAWN_SETSID</c>): stdin from
/// <c>/dev/null</c>, stdout and stderr appended to one file, working directory <c>/</c>, every signal at its default and
/// none blocked (as <see cref="System.Diagnostics.Process"/> leaves a child). No shell, <c>setsid</c> or <c>mv</c> in
/// between, which <see cref="DetachedRun.Spawn"/> needs and which cost a detached start about 6 ms on this project's
/// machine (eng/bench/run.sh).
/// </summary>
/// <remarks>
/// The program is a child of this process. A thread waits for it, so that when it ends before this process does it
/// leaves no zombie, which liveness checks (<see cref="OwnerStamp.IsAlive"/>) would take for alive. That suits a short
/// parent such as <c>dotnet container run -d</c>: once the parent exits, init adopts the child.
/// </remarks>
[SupportedOSPlatform("linux")]
internal static partial class SessionSpawn
{
    private const int SpawnSetSignalDefaults = 0x04, SpawnSetSignalMask = 0x08, SpawnSetSession = 0x80;
    private const int OpenWriteOnly = 0x1, OpenCreate = 0x40, OpenAppend = 0x400, OpenReadOnly = 0;

    // glibc's posix_spawnattr_t is 336 bytes, posix_spawn_file_actions_t 80 and sigset_t 128 on 64-bit Linux; the
    // buffers are larger so that no architecture's layout can overrun them.
    private const int OpaqueSize = 1024;

    /// <summary>
    /// Starts <paramref name="arguments"/> (an absolute program path, then its arguments) with
    /// <paramref name="environment"/> and returns its pid once it has been executed.
    /// </summary>
    /// <exception cref="IOException">The program could not be started (the message says why).</exception>
    /// <exception cref="EntryPointNotFoundException">The C library has no <c>posix_spawn_file_actions_addchdir_np</c> (glibc before 2.29, musl before 1.1.24).</exception>
    public static unsafe int Start(IReadOnlyList<string> arguments, IEnumerable<KeyValuePair<string, string?>> environment, string outputFile)
    {
        var attributes = NativeMemory.AllocZeroed(OpaqueSize);
        var actions = NativeMemory.AllocZeroed(OpaqueSize);
        var signals = NativeMemory.AllocZeroed(OpaqueSize);
        var argv = ToCStrings(arguments);
        var envp = ToCStrings(environment.Where(variable => variable.Value is not null).Select(variable => variable.Key + "=" + variable.Value).ToList());
        var attributesReady = false;
        var actionsReady = false;
        try
        {
            Check(SpawnAttrInit(attributes), "posix_spawnattr_init");
            attributesReady = true;
            Check(SpawnFileActionsInit(actions), "posix_spawn_file_actions_init");
            actionsReady = true;
            Check(SignalFillSet(signals) == 0 ? 0 : Marshal.GetLastPInvokeError(), "sigfillset");

            // glibc's sigfillset leaves out its two internal signals (32 and 33), and its posix_spawn then leaves them
            // ignored in the child, which exec keeps. A glibc program sets them up again; one in another language would
            // start with them ignored. Their bits (signal n is bit n - 1) go in directly: sigaddset refuses them.
            *(ulong*)signals |= (1UL << 31) | (1UL << 32);
            Check(SpawnAttrSetSignalDefaults(attributes, signals), "posix_spawnattr_setsigdefault");
            Check(SignalEmptySet(signals) == 0 ? 0 : Marshal.GetLastPInvokeError(), "sigemptyset");
            Check(SpawnAttrSetSignalMask(attributes, signals), "posix_spawnattr_setsigmask");
            Check(SpawnAttrSetFlags(attributes, SpawnSetSession | SpawnSetSignalDefaults | SpawnSetSignalMask), "posix_spawnattr_setflags");
            Check(SpawnFileActionsAddOpen(actions, 0, "/dev/null", OpenReadOnly, 0), "posix_spawn_file_actions_addopen");
            Check(SpawnFileActionsAddOpen(actions, 1, outputFile, OpenWriteOnly | OpenCreate | OpenAppend, Convert.ToUInt32("666", 8)), "posix_spawn_file_actions_addopen");
            Check(SpawnFileActionsAddDup2(actions, 1, 2), "posix_spawn_file_actions_adddup2");
            Check(SpawnFileActionsAddChdir(actions, "/"), "posix_spawn_file_actions_addchdir_np");

            int spawned;
            var error = Spawn(&spawned, arguments[0], actions, attributes, argv, envp);
            if (error != 0)
            {
                throw new IOException($"Could not start {arguments[0]}: {new Win32Exception(error).Message}.");
            }

            var pid = spawned;
            var waiter = new Thread(() => WaitForExit(pid)) { IsBackground = true, Name = "detached child " + pid };
            waiter.Start();
            return pid;
        }
        finally
        {
            if (actionsReady)
            {
                _ = SpawnFileActionsDestroy(actions);
            }

            if (attributesReady)
            {
                _ = SpawnAttrDestroy(attributes);
            }

            FreeCStrings(argv);
            FreeCStrings(envp);
            NativeMemory.Free(signals);
            NativeMemory.Free(actions);
            NativeMemory.Free(attributes);
        }
    }

    // Reaps the child whenever it ends; interrupted waits are retried, and a child reaped elsewhere (ECHILD) ends it.
    private static void WaitForExit(int pid)
    {
        const int interrupted = 4;
        while (WaitPid(pid, out _, 0) < 0 && Marshal.GetLastPInvokeError() == interrupted)
        {
        }
    }

    private static void Check(int error, string function)
    {
        if (error != 0)
        {
            throw new IOException($"{function} failed: {new Win32Exception(error).Message}.");
        }
    }

    private static unsafe byte** ToCStrings(IReadOnlyList<string> values)
    {
        var array = (byte**)NativeMemory.AllocZeroed((nuint)(values.Count + 1), (nuint)sizeof(byte*));
        for (var i = 0; i < values.Count; i++)
        {
            array[i] = (byte*)Marshal.StringToCoTaskMemUTF8(values[i]);
        }

        return array;
    }

    private static unsafe void FreeCStrings(byte** array)
    {
        for (var item = array; *item != null; item++)
        {
            Marshal.FreeCoTaskMem((nint)(*item));
        }

        NativeMemory.Free(array);
    }

    [LibraryImport("libc", EntryPoint = "posix_spawn", StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Spawn(int* pid, string path, void* fileActions, void* attributes, byte** argv, byte** envp);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_init")]
    private static unsafe partial int SpawnAttrInit(void* attributes);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_destroy")]
    private static unsafe partial int SpawnAttrDestroy(void* attributes);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setflags")]
    private static unsafe partial int SpawnAttrSetFlags(void* attributes, short flags);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigdefault")]
    private static unsafe partial int SpawnAttrSetSignalDefaults(void* attributes, void* signals);

    [LibraryImport("libc", EntryPoint = "posix_spawnattr_setsigmask")]
    private static unsafe partial int SpawnAttrSetSignalMask(void* attributes, void* signals);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_init")]
    private static unsafe partial int SpawnFileActionsInit(void* fileActions);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_destroy")]
    private static unsafe partial int SpawnFileActionsDestroy(void* fileActions);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_addopen", StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int SpawnFileActionsAddOpen(void* fileActions, int descriptor, string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_adddup2")]
    private static unsafe partial int SpawnFileActionsAddDup2(void* fileActions, int descriptor, int newDescriptor);

    [LibraryImport("libc", EntryPoint = "posix_spawn_file_actions_addchdir_np", StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int SpawnFileActionsAddChdir(void* fileActions, string path);

    [LibraryImport("libc", EntryPoint = "sigfillset", SetLastError = true)]
    private static unsafe partial int SignalFillSet(void* signals);

    [LibraryImport("libc", EntryPoint = "sigemptyset", SetLastError = true)]
    private static unsafe partial int SignalEmptySet(void* signals);

    [LibraryImport("libc", EntryPoint = "waitpid", SetLastError = true)]
    private static partial int WaitPid(int pid, out int status, int options);
}
