using System.Text;
using System.Text.Json;
using Containers.Build.Configuration;
using Containers.Build.Reproducibility;
using Containers.Oci.Digests;
using Containers.Oci.Json;
using Containers.Oci.Models;

namespace Containers.Build.Tests.Configuration;

[TestClass]
public sealed class ImageConfigComposerTests
{
    private static readonly BuildTimestamp Timestamp = new(DateTimeOffset.FromUnixTimeSeconds(1700000000), "test");

    // Shaped like mcr.microsoft.com/dotnet/aspnet:10.0's config, plus fields we do not model.
    private const string AspNetBaseConfig = """
        {"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","APP_UID=1654","ASPNETCORE_HTTP_PORTS=8080","DOTNET_RUNNING_IN_CONTAINER=true","DOTNET_VERSION=10.0.0"],"Cmd":["bash"],"Labels":{"com.example.base":"yes","org.opencontainers.image.version":"base"},"ArgsEscaped":true,"OnBuild":null},"rootfs":{"type":"layers","diff_ids":["sha256:2222222222222222222222222222222222222222222222222222222222222222"]},"history":[{"created":"2025-01-01T00:00:00Z","created_by":"base"}],"moby.buildkit.buildinfo.v1":"e30="}
        """;

    private static ImageConfig BaseConfig(string json = AspNetBaseConfig) => OciJson.DeserializeConfig(Encoding.UTF8.GetBytes(json));

    private static ComposedImageConfig Compose(ContainerSettings settings, string baseJson = AspNetBaseConfig, Digest? baseDigest = null) =>
        ImageConfigComposer.Compose(BaseConfig(baseJson), TestProjects.Resolve(settings with { ContainerRepository = "app" }, TestProjects.Web()), Timestamp, baseDigest);

    [TestMethod]
    public void Defaults_give_the_user_from_APP_UID_the_port_from_ASPNETCORE_HTTP_PORTS_and_the_app_entrypoint()
    {
        var composed = Compose(new ContainerSettings());
        var run = composed.Config.Config!;

        Assert.AreEqual("1654", run.User);
        CollectionAssert.AreEqual(new[] { "8080/tcp" }, run.ExposedPorts!.Keys.ToArray());
        CollectionAssert.AreEqual(new[] { "dotnet", "/app/MyApp.dll" }, run.Entrypoint!.ToArray());
        Assert.IsNull(run.Cmd, "the base image's CMD is not kept, as in the SDK");
        Assert.AreEqual("/app/", run.WorkingDir);
        Assert.AreEqual(Timestamp.Value, composed.Config.Created);
        Assert.AreEqual("2023-11-14T22:13:20Z", run.Labels!["org.opencontainers.image.created"]);
        Assert.AreEqual("2023-11-14T22:13:20Z", run.Labels["org.opencontainers.artifact.created"]);
        Assert.IsEmpty(composed.Diagnostics);
    }

    [TestMethod]
    public void An_explicit_user_wins_over_APP_UID()
    {
        Assert.AreEqual("app", Compose(new ContainerSettings { ContainerUser = "app" }).Config.Config!.User);
    }

    [TestMethod]
    public void APP_UID_is_read_from_the_merged_environment_of_any_base_image()
    {
        const string plain = """{"architecture":"amd64","os":"linux","config":{"User":"nobody"},"rootfs":{"type":"layers","diff_ids":[]}}""";

        Assert.AreEqual("nobody", Compose(new ContainerSettings(), plain).Config.Config!.User);
        Assert.AreEqual("4242", Compose(new ContainerSettings { ContainerEnvironmentVariables = [new("APP_UID", "4242")] }, plain).Config.Config!.User);
        Assert.AreEqual("4242", Compose(new ContainerSettings { ContainerEnvironmentVariables = [new("APP_UID", "4242")] }).Config.Config!.User);
    }

    [TestMethod]
    public void Environment_keeps_the_base_order_overrides_in_place_and_appends_new_names_sorted()
    {
        var settings = new ContainerSettings
        {
            ContainerEnvironmentVariables = [new("Z_LAST", "z"), new("DOTNET_VERSION", "mine"), new("A_FIRST", "a=b")],
        };

        var env = Compose(settings).Config.Config!.Env!;

        CollectionAssert.AreEqual(
            new[]
            {
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "APP_UID=1654", "ASPNETCORE_HTTP_PORTS=8080",
                "DOTNET_RUNNING_IN_CONTAINER=true", "DOTNET_VERSION=mine", "A_FIRST=a=b", "Z_LAST=z",
            },
            env.ToArray());
    }

    [TestMethod]
    public void Ports_merge_the_base_the_items_and_the_aspnetcore_variables_sorted()
    {
        const string withPorts = """{"architecture":"amd64","os":"linux","config":{"ExposedPorts":{"9999/tcp":{}},"Env":["ASPNETCORE_HTTP_PORTS=8080;8081","ASPNETCORE_HTTPS_PORTS=8443"]},"rootfs":{"type":"layers","diff_ids":[]}}""";

        var ports = Compose(new ContainerSettings { ContainerPorts = [new("53", "udp"), new("80"), new("9999")] }, withPorts).Config.Config!.ExposedPorts!;

        CollectionAssert.AreEqual(new[] { "9999/tcp", "53/udp", "80/tcp", "8080/tcp", "8081/tcp", "8443/tcp" }, ports.Keys.ToArray());
    }

    [TestMethod]
    public void ASPNETCORE_URLS_is_the_only_port_source_when_set()
    {
        var settings = new ContainerSettings { ContainerEnvironmentVariables = [new("ASPNETCORE_URLS", "http://+:5000;https://[::]:5001")] };

        CollectionAssert.AreEqual(new[] { "5000/tcp", "5001/tcp" }, Compose(settings).Config.Config!.ExposedPorts!.Keys.ToArray());
    }

    [TestMethod]
    public void Labels_keep_the_base_order_ours_override_and_new_ones_are_sorted()
    {
        var digest = Digest.Compute(Encoding.UTF8.GetBytes("base manifest"));
        var settings = new ContainerSettings
        {
            ContainerLabels = [new("org.opencontainers.image.version", "2.0"), new("b.custom", "b"), new("a.custom", "a")],
            LabelGeneration = LabelGenerationSwitches.Default with { DotnetToolset = false },
        };

        var labels = Compose(settings, baseDigest: digest).Config.Config!.Labels!;

        CollectionAssert.AreEqual(
            new[]
            {
                "com.example.base", "org.opencontainers.image.version", "a.custom", "b.custom",
                "org.opencontainers.artifact.created", "org.opencontainers.image.base.digest", "org.opencontainers.image.base.name", "org.opencontainers.image.created",
            },
            labels.Keys.ToArray());
        Assert.AreEqual("2.0", labels["org.opencontainers.image.version"]);
        Assert.AreEqual(digest.ToString(), labels["org.opencontainers.image.base.digest"]);
    }

    [TestMethod]
    public void No_generated_labels_when_ContainerGenerateLabels_is_false()
    {
        var settings = new ContainerSettings { LabelGeneration = LabelGenerationSwitches.Default with { Enabled = false } };

        var labels = Compose(settings, baseDigest: Digest.Compute([1])).Config.Config!.Labels!;

        CollectionAssert.AreEqual(new[] { "com.example.base", "org.opencontainers.image.version" }, labels.Keys.ToArray());
    }

    [TestMethod]
    public void A_base_entrypoint_replaced_by_default_is_a_warning_and_DefaultArgs_keeps_it()
    {
        const string withEntrypoint = """{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/tini","--"]},"rootfs":{"type":"layers","diff_ids":[]}}""";

        var replaced = Compose(new ContainerSettings(), withEntrypoint);
        var kept = Compose(new ContainerSettings { ContainerAppCommandInstruction = "DefaultArgs" }, withEntrypoint);

        Assert.AreEqual(ContainerDiagnosticCodes.BaseEntrypointOverwritten.Code, replaced.Diagnostics.Single().Code);
        Assert.Contains("ContainerAppCommandInstruction", replaced.Diagnostics.Single().Message);
        CollectionAssert.AreEqual(new[] { "dotnet", "/app/MyApp.dll" }, replaced.Config.Config!.Entrypoint!.ToArray());
        Assert.IsEmpty(kept.Diagnostics);
        CollectionAssert.AreEqual(new[] { "/tini", "--" }, kept.Config.Config!.Entrypoint!.ToArray());
        CollectionAssert.AreEqual(new[] { "dotnet", "/app/MyApp.dll" }, kept.Config.Config!.Cmd!.ToArray());
    }

    [TestMethod]
    public void A_dotnet_base_entrypoint_is_dropped_silently()
    {
        const string dotnetEntrypoint = """{"architecture":"amd64","os":"linux","config":{"Entrypoint":["dotnet"]},"rootfs":{"type":"layers","diff_ids":[]}}""";

        var composed = Compose(new ContainerSettings { ContainerAppCommandInstruction = "None", ContainerDefaultArgs = ["x"] }, dotnetEntrypoint);

        Assert.IsNull(composed.Config.Config!.Entrypoint);
        CollectionAssert.AreEqual(new[] { "x" }, composed.Config.Config.Cmd!.ToArray());
        Assert.IsEmpty(Compose(new ContainerSettings(), dotnetEntrypoint).Diagnostics);
    }

    [TestMethod]
    public void Fields_we_do_not_model_rootfs_and_history_are_kept()
    {
        var json = Encoding.UTF8.GetString(OciJson.Serialize(Compose(new ContainerSettings()).Config));
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;

        Assert.AreEqual("e30=", root.GetProperty("moby.buildkit.buildinfo.v1").GetString());
        Assert.IsTrue(root.GetProperty("config").GetProperty("ArgsEscaped").GetBoolean());
        Assert.AreEqual(1, root.GetProperty("rootfs").GetProperty("diff_ids").GetArrayLength());
        Assert.AreEqual("base", root.GetProperty("history")[0].GetProperty("created_by").GetString());
        Assert.AreEqual("2023-11-14T22:13:20Z", root.GetProperty("created").GetString());
    }

    [TestMethod]
    public void The_same_inputs_give_the_same_config_bytes_whatever_the_item_order()
    {
        var first = new ContainerSettings
        {
            ContainerEnvironmentVariables = [new("B", "2"), new("A", "1")],
            ContainerPorts = [new("81"), new("80")],
            ContainerLabels = [new("y", "2"), new("x", "1")],
        };
        var second = first with
        {
            ContainerEnvironmentVariables = [new("A", "1"), new("B", "2")],
            ContainerPorts = [new("80"), new("81")],
            ContainerLabels = [new("x", "1"), new("y", "2")],
        };

        var a = OciJson.Serialize(Compose(first).Config);
        var b = OciJson.Serialize(Compose(first).Config);
        var c = OciJson.Serialize(Compose(second).Config);

        CollectionAssert.AreEqual(a, b);
        CollectionAssert.AreEqual(a, c);
    }

    [TestMethod]
    public void A_different_timestamp_changes_only_the_created_fields()
    {
        var settings = TestProjects.Resolve(new ContainerSettings { ContainerRepository = "app" });
        var one = Encoding.UTF8.GetString(OciJson.Serialize(ImageConfigComposer.Compose(BaseConfig(), settings, Timestamp).Config));
        var two = Encoding.UTF8.GetString(OciJson.Serialize(ImageConfigComposer.Compose(BaseConfig(), settings, new BuildTimestamp(DateTimeOffset.FromUnixTimeSeconds(1700000001), "test")).Config));

        Assert.AreNotEqual(one, two);
        Assert.AreEqual(one, two.Replace("2023-11-14T22:13:21Z", "2023-11-14T22:13:20Z", StringComparison.Ordinal));
    }

    [TestMethod]
    public void The_publishing_callback_composes_per_rid_and_reports_diagnostics()
    {
        const string withEntrypoint = """{"architecture":"arm64","os":"linux","config":{"Entrypoint":["/init"]},"rootfs":{"type":"layers","diff_ids":[]}}""";
        var digest = Digest.Compute([7]);
        var reported = new List<ContainerDiagnostic>();
        var compose = ImageConfigComposer.ForPublishing(
            TestProjects.Resolve(new ContainerSettings { ContainerRepository = "app" }),
            Timestamp,
            reported.Add);

        var config = compose(BaseConfig(withEntrypoint), "linux-arm64", digest);

        Assert.AreEqual(digest.ToString(), config.Config!.Labels!["org.opencontainers.image.base.digest"]);
        Assert.AreEqual("arm64", config.Architecture);
        Assert.AreEqual(ContainerDiagnosticCodes.BaseEntrypointOverwritten.Code, reported.Single().Code);
    }
}
