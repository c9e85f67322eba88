using Containers.Build.Reproducibility;

namespace Containers.Build.SupplyChain.Signing;

/// <summary>The git commit a build came from, as a provenance's resolved dependency.</summary>
/// <param name="Uri">The repository as <c>git+&lt;remote&gt;</c> (credentials removed), or <c>git+file:</c> for no remote.</param>
/// <param name="Commit">The commit's full hash.</param>
public sealed record SourceRevision(string Uri, string Commit)
{
    /// <summary>Asks git about <paramref name="directory"/>; null when it is no git work tree or git is not installed.</summary>
    public static SourceRevision? Detect(string directory)
    {
        var commit = Git.Run(directory, "rev-parse", "HEAD");
        if (commit is null || commit.Length < 40)
        {
            return null;
        }

        var remote = Git.Run(directory, "remote", "get-url", "origin");
        string uri;
        if (remote is not null && System.Uri.TryCreate(remote, UriKind.Absolute, out var parsed) && parsed.Scheme is "https" or "http" or "ssh" or "git")
        {
            // A token in the remote's URL (https://user:token@host/...) must not reach a signed, published document.
            var builder = new UriBuilder(parsed) { UserName = "", Password = "" };
            uri = "git+" + builder.Uri.GetComponents(UriComponents.AbsoluteUri & ~UriComponents.UserInfo, UriFormat.UriEscaped);
        }
        else if (remote is not null && !remote.Contains('@', StringComparison.Ordinal) && !remote.Contains("://", StringComparison.Ordinal) && remote.Contains(':', StringComparison.Ordinal))
        {
            uri = "git+" + remote;
        }
        else if (remote is not null && remote.IndexOf('@', StringComparison.Ordinal) is var at and > 0 && !remote.Contains("://", StringComparison.Ordinal))
        {
            // scp-like git@host:owner/repo.git: the user is not a secret, but keep only host and path.
            uri = "git+ssh://" + remote[(at + 1)..].Replace(':', '/');
        }
        else
        {
            uri = "git+file:" + (Git.Run(directory, "rev-parse", "--show-toplevel") ?? directory);
        }

        return new SourceRevision(uri, commit);
    }
}
