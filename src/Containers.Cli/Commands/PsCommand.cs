using System.CommandLine;
using System.Globalization;
using Containers.Cli.State;

namespace Containers.Cli.Commands;

/// <summary><c>ps [-a]</c>: lists the containers that run (all with <c>-a</c>).</summary>
public static class PsCommand
{
    private static readonly string[] Headings = ["CONTAINER ID", "NAME", "IMAGE", "STATUS", "PORTS", "CREATED"];

    /// <summary>The command.</summary>
    public static Command Create()
    {
        var all = new Option<bool>("--all", "-a") { Description = "Lists exited, failed and dead containers too." };
        var command = new Command("ps", "Lists containers: id, name, image, status, ports, created.") { all };
        command.SetAction(parseResult =>
        {
            var console = CliConsole.From(parseResult);
            var showAll = parseResult.GetValue(all);
            var rows = new List<string[]> { Headings };
            var now = DateTimeOffset.UtcNow;
            foreach (var entry in StateStore.Open().List())
            {
                if (entry.TryRead() is not { } record)
                {
                    continue;
                }

                var status = LiveStatus.Describe(entry, record);
                if (showAll || status is ContainerStatus.Running or ContainerStatus.Starting)
                {
                    // Ports are published only while it runs.
                    var ports = status == ContainerStatus.Running ? string.Join(", ", record.Ports) : "";
                    rows.Add([record.Id, record.Name, record.Image, status, ports, Ago(now - record.Created)]);
                }
            }

            var widths = Enumerable.Range(0, rows[0].Length).Select(column => rows.Max(row => row[column].Length)).ToArray();
            foreach (var row in rows)
            {
                console.Out.WriteLine(string.Join("   ", row.Select((cell, column) => column == row.Length - 1 ? cell : cell.PadRight(widths[column]))).TrimEnd());
            }

            return CliExitCodes.Success;
        });
        return command;
    }

    private static string Ago(TimeSpan age) => age switch
    {
        { TotalMinutes: < 1 } => $"{Math.Max(0, (int)age.TotalSeconds).ToString(CultureInfo.InvariantCulture)} seconds ago",
        { TotalHours: < 1 } => $"{((int)age.TotalMinutes).ToString(CultureInfo.InvariantCulture)} minutes ago",
        { TotalDays: < 1 } => $"{((int)age.TotalHours).ToString(CultureInfo.InvariantCulture)} hours ago",
        _ => $"{((int)age.TotalDays).ToString(CultureInfo.InvariantCulture)} days ago",
    };
}
