using Containers.Oci;
using Containers.Oci.Layers;
using Containers.Oci.Registry;

namespace Containers.Build.Publishing.Transfers;

/// <summary>
/// Sends a layer to the destination registry while it is being written, so its upload overlaps its compression
/// instead of following it; the same bytes go to the layer's file (the layer cache or a temporary directory).
/// </summary>
/// <remarks>
/// Best effort by design: the file is the layer, the stream only an early copy. When the registry refuses to start
/// or continue the stream, the file is still completed and the ordinary push uploads the blob from it later (with
/// its retries); the abandoned session is cancelled. Nothing is tagged here: blobs go up by digest, and the tags
/// move only after the whole image is in the registry.
/// </remarks>
internal sealed class LayerUploader(RegistryClient registry, string host, string repository, Action<string> report)
{
    /// <summary>
    /// Writes <paramref name="plan"/> into <paramref name="directory"/> as <see cref="LayerWriter.WriteToDirectoryAsync"/>
    /// does (a temporary file renamed to the digest's hex when complete), streaming the same bytes to the registry.
    /// </summary>
    public async Task<StoredLayer> WriteToDirectoryAsync(LayerPlan plan, string directory, LayerWriteOptions options, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var temporaryPath = Path.Combine(directory, ".layer-" + Guid.NewGuid().ToString("N") + ".tmp");
        var upload = await TryStartAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            LayerWriteResult result;
            Exception? streamFailure;
            var file = new FileStream(temporaryPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.Asynchronous);
            await using (file.ConfigureAwait(false))
            {
                var tee = new TeeToUploadStream(file, upload);
                result = await LayerWriter.WriteAsync(plan, tee, options, cancellationToken).ConfigureAwait(false);
                streamFailure = tee.UploadFailure;
            }

            var finalPath = Path.Combine(directory, result.Descriptor.Digest.Hex);
            File.Move(temporaryPath, finalPath, overwrite: true);
            if (upload is not null)
            {
                if (streamFailure is null)
                {
                    try
                    {
                        await upload.CompleteAsync(result.Descriptor, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (IsRegistryFailure(ex, cancellationToken))
                    {
                        streamFailure = ex;
                    }
                }

                if (streamFailure is not null)
                {
                    report($"Streaming layer {result.Descriptor.Digest.Hex[..12]} to {host}/{repository} failed ({streamFailure.Message}); it is uploaded from its file with the image.");
                }
            }

            return StoredLayer.FromFile(result.Descriptor, result.DiffId, finalPath);
        }
        finally
        {
            File.Delete(temporaryPath);
            if (upload is not null)
            {
                // Cancels the session unless it was completed.
                await upload.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task<BlobUploadStream?> TryStartAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await registry.StartBlobUploadAsync(host, repository, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsRegistryFailure(ex, cancellationToken))
        {
            report($"Could not start streaming a layer to {host}/{repository} ({ex.Message}); it is uploaded from its file with the image.");
            return null;
        }
    }

    private static bool IsRegistryFailure(Exception exception, CancellationToken cancellationToken) =>
        exception is OciException or HttpRequestException or IOException
        || (exception is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    /// <summary>Writes to the file, and to the upload until the upload fails; the file's failures are the caller's.</summary>
    private sealed class TeeToUploadStream(Stream file, BlobUploadStream? upload) : Stream
    {
        private BlobUploadStream? _upload = upload;

        public Exception? UploadFailure { get; private set; }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await file.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (_upload is not null)
            {
                try
                {
                    await _upload.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (IsRegistryFailure(ex, cancellationToken))
                {
                    UploadFailure = ex;
                    _upload = null;
                }
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) =>
            WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override void Flush() => file.Flush();
        public override Task FlushAsync(CancellationToken cancellationToken) => file.FlushAsync(cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
