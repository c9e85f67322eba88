#!/usr/bin/env bash
# Time from ContainerGraph.StartAsync to samples/TodoApi's first GET /healthz 200 with PostgreSQL and Redis (the
# dependency images of eng/dependency-images.sh, pulled from a local registry): cold (empty host cache), warm, and
# each member's start alone, to show that independent members start at the same time, and reused (the graph left
# running by an earlier run, attached by a new process).
# Goals (app-graph issue): graph start <= the slowest dependency's start + the app's + 300 ms; reused <= 100 ms.
# Needs root, eng/install-deps.sh, eng/base-images.sh and eng/dependency-images.sh done.
# Usage: sudo bash eng/bench/graph-startup.sh [runs]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
runs="${1:-5}"
work="$(mktemp -d /tmp/containers-sdk-graph-bench-XXXXXX)"
registry_pid=""
cleanup() { [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 MSBUILDDISABLENODEREUSE=1
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$work/registry" "$port" > "$work/registry.yml"
/usr/bin/docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
bash "$repo/eng/push-base-images.sh" "127.0.0.1:$port" >/dev/null 2>&1
dependencies="${CONTAINERS_SDK_TEST_DEPENDENCY_IMAGES:-/var/cache/containers-sdk-tests/dependency-images}"
[[ -f "$dependencies/index.json" ]] || { echo "graph-startup: no dependency images at $dependencies; run: sudo bash eng/dependency-images.sh" >&2; exit 1; }
skopeo copy --quiet --dest-tls-verify=false "oci:$dependencies:postgres-15" "docker://127.0.0.1:$port/library/postgres:15"
skopeo copy --quiet --dest-tls-verify=false "oci:$dependencies:redis-7" "docker://127.0.0.1:$port/library/redis:7"
echo "== packing and publishing samples/TodoApi into an OCI layout" >&2
# The repository's projects restore with the machine's package folder (their obj/ must not point into this run's
# private one, deleted on exit); the sample with the private one, so a re-packed package is never served stale.
dotnet pack "$repo" -c Release -o "$work/feed" -v quiet -nologo >/dev/null
export NUGET_PACKAGES="$work/nuget"
version="$(ls "$work/feed" | sed -n 's/^Containers\.Sdk\.\([0-9].*\)\.nupkg$/\1/p' | head -1)"
cp "$repo/samples/Directory.Build.props" "$work/"
cp -r "$repo/samples/TodoApi" "$work/TodoApi"
rm -rf "$work/TodoApi/bin" "$work/TodoApi/obj"
printf '<configuration><packageSources><add key="feed" value="%s" /></packageSources></configuration>\n' "$work/feed" > "$work/NuGet.config"
dotnet publish "$work/TodoApi/TodoApi.csproj" -t:PublishContainer -p:ContainersSdkVersion="$version" \
  -p:ContainerBaseRegistry="127.0.0.1:$port" -p:ContainerOciLayoutPath="$work/layout" -p:ContainerImageTag=bench -v quiet -nologo >/dev/null
echo "== measuring (cold once, then $runs warm runs)" >&2
dotnet run -c Release --project "$here/GraphStartup/GraphStartup.csproj" -- "127.0.0.1:$port" "$work/layout" bench "$runs"
