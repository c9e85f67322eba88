namespace Containers.Build.OsPackages;

/// <summary>A package asked for by name, optionally in an exact version.</summary>
public sealed record OsPackageRequest(string Name, string? Version = null);

/// <summary>A package the resolver chose, with the source whose signed index listed it.</summary>
public sealed record ResolvedOsPackage(DebPackage Package, AptSource Source);

/// <summary>
/// Resolves requested packages and their Pre-Depends/Depends (alternatives, version relations, virtual packages
/// through Provides, Multi-Arch qualifiers) for one architecture, minus what the base image already has installed.
/// Greedy and deterministic: the first satisfiable alternative wins, and among candidates the highest version
/// (the earlier source on a tie). Packages of the base are never replaced: a dependency that needs another version
/// of an installed package, or a Conflicts/Breaks between the chosen packages and the base, is an error.
/// </summary>
public sealed class OsPackageResolver
{
    private readonly string _architecture;
    private readonly Dictionary<string, DebPackage> _installed = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<ResolvedOsPackage>> _candidates = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<(ResolvedOsPackage Provider, PackageRelation Provided)>> _providers = new(StringComparer.Ordinal);
    private readonly IReadOnlyList<AptIndex> _indexes;

    /// <summary>Creates a resolver over <paramref name="indexes"/> (in priority order) for a base with <paramref name="installed"/> packages.</summary>
    public OsPackageResolver(string architecture, IEnumerable<DebPackage> installed, IReadOnlyList<AptIndex> indexes)
    {
        _architecture = architecture;
        _indexes = indexes;
        foreach (var package in installed.Where(p => p.IsInstalled || p.Control["Status"] is null))
        {
            _installed[package.Name] = package;
        }

        foreach (var index in indexes)
        {
            foreach (var package in index.Packages.Where(p => p.Architecture == architecture || p.Architecture == "all"))
            {
                var resolved = new ResolvedOsPackage(package, index.Source);
                Add(_candidates, package.Name, resolved);
                foreach (var provided in package.Provides)
                {
                    if (!_providers.TryGetValue(provided.Name, out var list))
                    {
                        _providers[provided.Name] = list = [];
                    }

                    list.Add((resolved, provided));
                }
            }
        }

        foreach (var list in _candidates.Values)
        {
            // Stable: on equal versions the earlier source stays first.
            var ordered = list.Select((c, i) => (c, i)).OrderByDescending(x => x.c.Package.Version).ThenBy(x => x.i).Select(x => x.c).ToList();
            list.Clear();
            list.AddRange(ordered);
        }
    }

    /// <summary>The packages to add, sorted by name; empty when the base already has everything.</summary>
    /// <exception cref="OsPackageException">Unknown package or version, no build for the architecture, unsatisfiable or conflicting.</exception>
    public IReadOnlyList<ResolvedOsPackage> Resolve(IReadOnlyList<OsPackageRequest> requests)
    {
        var selected = new Dictionary<string, ResolvedOsPackage>(StringComparer.Ordinal);
        var queue = new Queue<ResolvedOsPackage>();
        foreach (var request in requests)
        {
            var chosen = ChooseRequested(request);
            if (chosen is not null && selected.TryAdd(chosen.Package.Name, chosen))
            {
                queue.Enqueue(chosen);
            }
        }

        while (queue.Count > 0)
        {
            var package = queue.Dequeue();
            foreach (var group in package.Package.Depends)
            {
                if (group.Any(r => IsSatisfied(r, selected)))
                {
                    continue;
                }

                var chosen = ChooseFor(group, package, selected);
                selected[chosen.Package.Name] = chosen;
                queue.Enqueue(chosen);
            }
        }

        CheckConflicts(selected);
        return selected.Values.OrderBy(p => p.Package.Name, StringComparer.Ordinal).ToArray();
    }

    private string Sources => string.Join("; ", _indexes.Select(i => $"'{i.Source.DisplayName}'").Distinct());

    private ResolvedOsPackage? ChooseRequested(OsPackageRequest request)
    {
        DebianVersion? wanted = null;
        if (request.Version is { Length: > 0 } versionText)
        {
            if (!DebianVersion.TryParse(versionText, out wanted))
            {
                throw new OsPackageException(OsPackageErrorCodes.InvalidConfiguration,
                    $"ContainerOsPackage '{request.Name}' has Version='{versionText}', which is not a Debian version ([epoch:]upstream[-revision], e.g. 7.88.1-10+deb12u8).");
            }
        }

        if (_installed.TryGetValue(request.Name, out var installed))
        {
            if (wanted is null || installed.Version.Equals(wanted))
            {
                return null;
            }

            throw new OsPackageException(OsPackageErrorCodes.Unsatisfiable,
                $"ContainerOsPackage '{request.Name}' asks for version {wanted}, but the base image has {installed.Version} installed; packages of the base are not replaced. Remove the Version or use a base image with that version.");
        }

        if (!_candidates.TryGetValue(request.Name, out var candidates))
        {
            if (_indexes.Count > 0 && _indexes.All(i => !i.HasArchitecture))
            {
                throw new OsPackageException(OsPackageErrorCodes.ArchitectureNotAvailable,
                    $"ContainerOsPackage '{request.Name}': no source has packages for architecture {_architecture} ({Sources}); use a source that serves {_architecture} or drop that runtime identifier.");
            }

            if (_providers.TryGetValue(request.Name, out var providers))
            {
                return providers.Select(p => p.Provider).First();
            }

            throw new OsPackageException(OsPackageErrorCodes.UnknownPackage,
                $"ContainerOsPackage '{request.Name}' is not a package for {_architecture} in {Sources}; check its name (apt-cache policy {request.Name}) and the sources' suite and components.");
        }

        if (wanted is null)
        {
            return candidates[0];
        }

        return candidates.FirstOrDefault(c => c.Package.Version.Equals(wanted))
            ?? throw new OsPackageException(OsPackageErrorCodes.VersionNotFound,
                $"ContainerOsPackage '{request.Name}' Version='{wanted}' is not in {Sources}; available for {_architecture}: {string.Join(", ", candidates.Select(c => c.Package.Version.Text).Distinct())}. Use one of them or remove the Version.");
    }

    private ResolvedOsPackage ChooseFor(IReadOnlyList<PackageRelation> group, ResolvedOsPackage dependent, Dictionary<string, ResolvedOsPackage> selected)
    {
        foreach (var relation in group)
        {
            if (_installed.TryGetValue(relation.Name, out var installed) && ArchitectureFits(installed, relation))
            {
                // The base has it in a version that does not fit; replacing base packages is not done.
                continue;
            }

            if (selected.ContainsKey(relation.Name))
            {
                continue;
            }

            if (_candidates.TryGetValue(relation.Name, out var candidates))
            {
                var fit = candidates.FirstOrDefault(c => relation.IsSatisfiedBy(c.Package.Version) && ArchitectureFits(c.Package, relation));
                if (fit is not null)
                {
                    return fit;
                }
            }

            if (_providers.TryGetValue(relation.Name, out var providers))
            {
                var fit = providers
                    .Where(p => (relation.Relation == VersionRelation.Any || (p.Provided.Version is { } v && relation.IsSatisfiedBy(v))) && ArchitectureFits(p.Provider.Package, relation))
                    .Select(p => p.Provider)
                    .OrderBy(p => p.Package.Name, StringComparer.Ordinal)
                    .FirstOrDefault();
                if (fit is not null)
                {
                    return fit;
                }
            }
        }

        var wanted = string.Join(" | ", group);
        var inBase = group.Where(r => _installed.ContainsKey(r.Name)).Select(r => $"{r.Name} {_installed[r.Name].Version}").ToArray();
        var why = inBase.Length > 0
            ? $"the base image has {string.Join(", ", inBase)}, which does not fit, and base packages are not replaced; use a source of the base image's own release"
            : $"no source has a package that fits ({Sources})";
        throw new OsPackageException(OsPackageErrorCodes.Unsatisfiable,
            $"ContainerOsPackage dependency '{wanted}' of {dependent.Package.Name} {dependent.Package.Version} cannot be satisfied: {why}.");
    }

    private bool IsSatisfied(PackageRelation relation, Dictionary<string, ResolvedOsPackage> selected)
    {
        if (_installed.TryGetValue(relation.Name, out var installed) && relation.IsSatisfiedBy(installed.Version) && ArchitectureFits(installed, relation))
        {
            return true;
        }

        if (selected.TryGetValue(relation.Name, out var chosen) && relation.IsSatisfiedBy(chosen.Package.Version) && ArchitectureFits(chosen.Package, relation))
        {
            return true;
        }

        return _installed.Values.Concat(selected.Values.Select(s => s.Package))
            .Any(p => p.Provides.Any(provided => provided.Name == relation.Name
                && (relation.Relation == VersionRelation.Any || (provided.Version is { } v && relation.IsSatisfiedBy(v)))));
    }

    private bool ArchitectureFits(DebPackage package, PackageRelation relation)
    {
        if (package.Architecture == _architecture || package.Architecture == "all")
        {
            return relation.ArchitectureQualifier is null or "any" || relation.ArchitectureQualifier == package.Architecture;
        }

        return relation.ArchitectureQualifier switch
        {
            null => package.MultiArch == "foreign",
            "any" => package.MultiArch is "allowed" or "foreign",
            var qualifier => qualifier == package.Architecture,
        };
    }

    private void CheckConflicts(Dictionary<string, ResolvedOsPackage> selected)
    {
        foreach (var chosen in selected.Values.OrderBy(p => p.Package.Name, StringComparer.Ordinal))
        {
            foreach (var conflict in chosen.Package.Conflicts)
            {
                if (conflict.Name == chosen.Package.Name || chosen.Package.Provides.Any(p => p.Name == conflict.Name))
                {
                    continue;
                }

                if (_installed.TryGetValue(conflict.Name, out var installed) && conflict.IsSatisfiedBy(installed.Version))
                {
                    throw new OsPackageException(OsPackageErrorCodes.Unsatisfiable,
                        $"ContainerOsPackage: {chosen.Package.Name} {chosen.Package.Version} (from '{chosen.Source.DisplayName}') conflicts with {installed.Name} {installed.Version} of the base image ({conflict}); choose another package or base image.");
                }

                if (selected.TryGetValue(conflict.Name, out var other) && conflict.IsSatisfiedBy(other.Package.Version))
                {
                    throw new OsPackageException(OsPackageErrorCodes.Unsatisfiable,
                        $"ContainerOsPackage: {chosen.Package.Name} {chosen.Package.Version} conflicts with {other.Package.Name} {other.Package.Version}, which is also needed ({conflict}); ask for one of them only.");
                }
            }
        }

        foreach (var installed in _installed.Values.OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            foreach (var conflict in installed.Conflicts)
            {
                if (selected.TryGetValue(conflict.Name, out var chosen) && conflict.IsSatisfiedBy(chosen.Package.Version))
                {
                    throw new OsPackageException(OsPackageErrorCodes.Unsatisfiable,
                        $"ContainerOsPackage: {chosen.Package.Name} {chosen.Package.Version} (from '{chosen.Source.DisplayName}') is refused by {installed.Name} {installed.Version} of the base image ({conflict}); choose another package or base image.");
                }
            }
        }
    }

    private static void Add(Dictionary<string, List<ResolvedOsPackage>> map, string key, ResolvedOsPackage value)
    {
        if (!map.TryGetValue(key, out var list))
        {
            map[key] = list = [];
        }

        list.Add(value);
    }
}
