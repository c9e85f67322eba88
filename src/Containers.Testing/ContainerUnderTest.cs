using Containers.Host.Images;

namespace Containers.Testing;

/// <summary>
/// An app whose image the test project builds (a <c>ContainerUnderTest</c> item): start it for a test, share one
/// container across a class or the whole assembly, or run it in a <see cref="TestContainerGraph"/> with the services
/// it needs. The generated <c>ContainersUnderTest</c> class has one per item.
/// </summary>
/// <example>
/// <code>
/// [TestMethod]
/// public async Task Healthz_answers()
/// {
///     await using var app = await ContainersUnderTest.WebApi.StartAsync(TestContext);
///     using var http = app.CreateHttpClient();
///     Assert.AreEqual(HttpStatusCode.OK, (await http.GetAsync("/healthz", TestContext.CancellationToken)).StatusCode);
/// }
/// </code>
/// </example>
public sealed class ContainerUnderTest : TestContainer
{
    /// <summary>The tag the package's targets give the image in its layout.</summary>
    public const string DefaultTag = "test";

    /// <summary>Creates a handle for the image tagged <paramref name="tag"/> in the OCI layout <paramref name="layoutDirectory"/>.</summary>
    public ContainerUnderTest(string name, string layoutDirectory, string tag = DefaultTag)
        : base(name)
    {
        ArgumentException.ThrowIfNullOrEmpty(layoutDirectory);
        LayoutDirectory = layoutDirectory;
        Tag = tag;
    }

    /// <summary>The OCI layout the app's image is built into.</summary>
    public string LayoutDirectory { get; }

    /// <summary>The image's tag in the layout.</summary>
    public string Tag { get; }

    /// <inheritdoc />
    public override ContainerImageSource Image => ContainerImageSource.FromOciLayout(LayoutDirectory, Tag);

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({LayoutDirectory}:{Tag})";

    /// <inheritdoc />
    protected override void EnsureImageAvailable()
    {
        if (!Directory.Exists(LayoutDirectory))
        {
            throw new InvalidOperationException($"The image of {Name} is not built: '{LayoutDirectory}' does not exist. Build the test project (its ContainerUnderTest items publish the apps' images after Build), and check the build output for the app's publish errors.");
        }
    }
}
