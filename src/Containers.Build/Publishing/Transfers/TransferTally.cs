using Containers.Oci.Digests;
using Containers.Oci.Registry;

namespace Containers.Build.Publishing.Transfers;

/// <summary>
/// Tallies one operation's blob transfers from the registry client's progress events: bytes and blobs uploaded,
/// bytes reused (mounted or already present). Every event is forwarded to the caller's own observer; when a log
/// is given, each blob's outcome (and large uploads every 25%) is written to it.
/// </summary>
/// <remarks>
/// One tally per registry client: the client reports every transfer to it, so pulls that precede the push
/// (a base image's manifests, say) are cleared with <see cref="Reset"/> before the counted part begins.
/// </remarks>
internal sealed class TransferTally(IProgress<TransferProgress>? forward, Action<string>? log = null) : IProgress<TransferProgress>
{
    // Uploads smaller than this are not worth a progress line before they complete.
    private const long ProgressReportThreshold = 4 * 1024 * 1024;

    private readonly object _gate = new();
    private readonly Dictionary<Digest, int> _lastQuarter = [];
    private readonly List<Digest> _uploadedBlobs = [];

    /// <summary>Bytes of blobs uploaded.</summary>
    public long Uploaded { get; private set; }

    /// <summary>Bytes of blobs that were not uploaded: mounted from another repository or already present.</summary>
    public long Reused { get; private set; }

    /// <summary>The blobs uploaded, in the order they completed.</summary>
    public Digest[] UploadedBlobs
    {
        get
        {
            lock (_gate)
            {
                return _uploadedBlobs.ToArray();
            }
        }
    }

    /// <summary>Forgets everything counted so far.</summary>
    public void Reset()
    {
        lock (_gate)
        {
            Uploaded = 0;
            Reused = 0;
            _lastQuarter.Clear();
            _uploadedBlobs.Clear();
        }
    }

    /// <inheritdoc />
    public void Report(TransferProgress value)
    {
        forward?.Report(value);
        string? message = null;
        lock (_gate)
        {
            if (value.IsComplete)
            {
                switch (value.Operation)
                {
                    case TransferOperation.Pushed:
                        Uploaded += value.TotalBytes;
                        _uploadedBlobs.Add(value.Digest);
                        message = $"Uploaded {value.Digest.Hex[..12]} ({ByteSizes.Format(value.TotalBytes)}).";
                        break;
                    case TransferOperation.Mounted:
                        Reused += value.TotalBytes;
                        message = $"Mounted {value.Digest.Hex[..12]} ({ByteSizes.Format(value.TotalBytes)}) from another repository.";
                        break;
                    case TransferOperation.SkippedExisting when !_uploadedBlobs.Contains(value.Digest):
                        // A blob this operation uploaded itself (streamed while its layer was written) is not reused.
                        Reused += value.TotalBytes;
                        break;
                }
            }
            else if (log is not null && value.Operation == TransferOperation.Pushed && value.TotalBytes > ProgressReportThreshold)
            {
                var quarter = (int)(value.BytesTransferred * 4 / value.TotalBytes);
                if (quarter > _lastQuarter.GetValueOrDefault(value.Digest))
                {
                    _lastQuarter[value.Digest] = quarter;
                    message = $"Uploading {value.Digest.Hex[..12]}: {ByteSizes.Format(value.BytesTransferred)} of {ByteSizes.Format(value.TotalBytes)}.";
                }
            }
        }

        if (message is not null)
        {
            log?.Invoke(message);
        }
    }
}
