#!/usr/bin/env bash
# Time from ContainerHost.StartAsync to the first HTTP 200 of samples/WebApi's image (already unpacked in
# the host's cache), next to a hand-run `runc run --detach` of the same image's bundle (umoci unpack,
# host network) to its first 200. Goal (issue 5): overhead <= 150 ms.
# Needs root, eng/install-deps.sh and eng/base-images.sh done. Usage: sudo bash eng/bench/host-startup.sh [runs]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
runs="${1:-7}"
work="$(mktemp -d /tmp/containers-sdk-host-bench-XXXXXX)"
registry_pid=""
cleanup() { [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 MSBUILDDISABLENODEREUSE=1
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$work/registry" "$port" > "$work/registry.yml"
/usr/bin/docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
bash "$repo/eng/push-base-images.sh" "127.0.0.1:$port" >/dev/null
echo "== packing and publishing samples/WebApi into an OCI layout" >&2
# The repository's projects restore with the machine's package folder (their obj/ must not point into this run's
# private one, deleted on exit); the sample with the private one, so a re-packed package is never served stale.
dotnet pack "$repo" -c Release -o "$work/feed" -v quiet -nologo >/dev/null
export NUGET_PACKAGES="$work/nuget"
version="$(ls "$work/feed" | sed -n 's/^Containers\.Sdk\.\([0-9].*\)\.nupkg$/\1/p' | head -1)"
cp "$repo/samples/Directory.Build.props" "$work/"
cp -r "$repo/samples/WebApi" "$work/WebApi"
rm -rf "$work/WebApi/bin" "$work/WebApi/obj"
printf '<configuration><packageSources><add key="feed" value="%s" /></packageSources></configuration>\n' "$work/feed" > "$work/NuGet.config"
dotnet publish "$work/WebApi/WebApi.csproj" -t:PublishContainer -p:ContainersSdkVersion="$version" \
  -p:ContainerBaseRegistry="127.0.0.1:$port" -p:ContainerOciLayoutPath="$work/layout" -p:ContainerImageTag=bench -v quiet -nologo >/dev/null
echo "== measuring ($runs runs each)" >&2
dotnet run -c Release --project "$here/HostStartup/HostStartup.csproj" -- "$work/layout" bench "$runs"
