#!/usr/bin/env bash
# Cold publishes of big images, Containers.Sdk against the .NET SDK's built-in container support, in one run on
# the same machine, base and registry (issue 15: parallel, pipelined layers):
#   sc-x64    the benchmark web app self-contained for linux-x64 on runtime-deps-10.0
#   sc-2rid   the same for linux-x64 and linux-arm64 (an index; base: multiarch-10.0)
#   1gb-x64   sc-x64 plus 1 GB of generated files in gen/ (half base64 text, half random bytes), published as content
#             (not in wwwroot: the ASP.NET SDK brotli/gzip-compresses every wwwroot file at publish, for minutes)
# Every publish is cold: a fresh repository, a fresh data directory (empty layer cache, no build server of ours
# running) and, for the built-in support, nothing cached either (it has no layer cache).
# Prints a Markdown table: container-step time (MSBuild task performance summary), bytes sent to the registry
# (a TCP proxy in front of it), peak memory, and the ratio ours/built-in per scenario. Peak memory: "publish max RSS"
# is GNU time's maximum resident set of the largest process the publish waited for (MSBuild, with the compiler's
# work; the built-in's container step runs there); "server peak" is the peak resident set (VmHWM) of the
# Containers.Sdk build server this publish started, where our container step runs (docs/build-server.md).
# Needs: eng/install-deps.sh, eng/base-images.sh done; GNU time (/usr/bin/time); 10 GB free under /tmp for 1gb-x64.
# Usage: eng/bench/cold-publish-benchmark.sh [scenario...]   (default: all three)
#        BENCH_FEED=<dir with the packed Containers.Sdk> skips the pack; BENCH_KEEP=1 keeps the work directory.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
scenarios=("$@"); [ ${#scenarios[@]} -gt 0 ] || scenarios=(sc-x64 sc-2rid 1gb-x64)
work="$(mktemp -d /tmp/containers-sdk-cold-bench-XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
if [ -z "${BENCH_KEEP:-}" ]; then trap cleanup EXIT; else echo "keeping $work" >&2; fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

if [ -n "${BENCH_FEED:-}" ]; then  # a feed packed from the same commit by an earlier run
  cp -r "$BENCH_FEED" "$work/feed"
else
  echo "== packing Containers.Sdk" >&2
  dotnet pack "$repo" -c Release -o "$work/feed" >/dev/null
fi

echo "== starting registry and counting proxy" >&2
reg_port="$(free_port)"; proxy_port="$(free_port)"
mkdir -p "$work/registry"
cat > "$work/registry/config.yml" <<YAML
version: 0.1
storage:
  filesystem:
    rootdirectory: $work/registry/data
http:
  addr: 127.0.0.1:$reg_port
YAML
/usr/bin/docker-registry serve "$work/registry/config.yml" >"$work/registry/log" 2>&1 &
pids+=($!)
dotnet run --file "$here/CountingProxy.cs" -- "$proxy_port" "$reg_port" "$work/uploaded" >"$work/proxy.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$proxy_port/v2/" >/dev/null 2>&1 && break; sleep 0.3; done
registry="localhost:$proxy_port"
layout="${CONTAINERS_SDK_TEST_IMAGES:-/var/cache/containers-sdk-tests/base-images}"
for ref in runtime-deps-10.0 multiarch-10.0; do
  skopeo copy -q --all --dest-tls-verify=false "oci:$layout:$ref" "docker://127.0.0.1:$reg_port/dotnet/base:$ref"
done

echo "== creating the apps" >&2
make_app() { # dir
  dotnet new webapi -n BenchApp -o "$1" --no-openapi >/dev/null
  (cd "$1" && dotnet add package Microsoft.EntityFrameworkCore.Sqlite --version 10.0.15 >/dev/null \
    && dotnet add package Serilog.AspNetCore --version 10.0.0 >/dev/null)
}
make_app "$work/builtin"
make_app "$work/ours"
cat > "$work/ours/NuGet.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration><packageSources><add key="bench-feed" value="$work/feed" /></packageSources></configuration>
XML
version="$(ls "$work/feed" | sed -n 's/^Containers\.Sdk\.\(.*\)\.nupkg$/\1/p' | head -1)"
(cd "$work/ours" && NUGET_PACKAGES="$work/nuget" dotnet add package Containers.Sdk --version "$version" >/dev/null)

# 1 GB of generated content, made once and copied into each app for the 1gb scenario only.
make_gigabyte() { # dir
  mkdir -p "$1"
  for i in $(seq -w 0 249); do
    head -c 1480000 /dev/urandom | base64 -w 76 > "$1/text$i.txt"   # about 2 MB of text, nothing cut (no SIGPIPE)
    head -c 2000000 /dev/urandom > "$1/blob$i.bin"
  done
}

task_ms() { # log task-regex
  awk -v re="$2" '/Task Performance Summary/{t=1} t && $0 ~ re {gsub(/ms/,"",$1); s+=$1} END{printf "%d", s}' "$1"
}

declare -A step_ms
run() { # tool scenario
  local tool="$1" scenario="$2" dir="$work/$1" log="$work/$1-$2.log" before after rids base props
  case "$scenario" in
    sc-2rid)
      # Self-contained with two RIDs: in the project and only in the per-RID inner builds (SelfContained=true
      # without a RuntimeIdentifier makes the SDK pick the machine's RID, and the publish becomes single-RID).
      base="$registry/dotnet/base:multiarch-10.0"; props=()
      cat > "$dir/Directory.Build.props" <<'XML'
<Project><PropertyGroup><RuntimeIdentifiers>linux-x64;linux-arm64</RuntimeIdentifiers><ContainerRuntimeIdentifiers>linux-x64;linux-arm64</ContainerRuntimeIdentifiers><SelfContained Condition="'$(RuntimeIdentifier)' != ''">true</SelfContained></PropertyGroup></Project>
XML
      ;;
    *)
      base="$registry/dotnet/base:runtime-deps-10.0"; props=(-p:RuntimeIdentifier=linux-x64 -p:ContainerRuntimeIdentifier=linux-x64 -p:SelfContained=true)
      rm -f "$dir/Directory.Build.props";;
  esac
  rm -rf "$dir/gen" "$dir/Directory.Build.targets"
  if [ "$scenario" = 1gb-x64 ]; then
    cp -r "$work/gigabyte" "$dir/gen"
    cat > "$dir/Directory.Build.targets" <<'XML'
<Project><ItemGroup><Content Include="gen/**" CopyToPublishDirectory="PreserveNewest" /></ItemGroup></Project>
XML
  fi
  # A cold publish: no build output, and a data directory that exists (.NET's LocalApplicationData is empty for
  # a missing one, and the layer cache would then land in the project directory and outlive the scenario).
  rm -rf "$dir/bin" "$dir/obj" "$dir/containers-sdk"
  mkdir -p "$work/data-$tool-$scenario"
  (cd "$dir" && NUGET_PACKAGES="$work/nuget" dotnet restore "${props[@]}" >/dev/null)
  before="$(cat "$work/uploaded")"
  local start end
  start=$(date +%s%N)
  (cd "$dir" && NUGET_PACKAGES="$work/nuget" XDG_DATA_HOME="$work/data-$tool-$scenario" DOTNET_CONTAINER_INSECURE_REGISTRIES="$registry" \
    /usr/bin/time -f '%M' -o "$work/$tool-$scenario.rss" dotnet publish -c Release -t:PublishContainer --no-restore -p:ContainerRegistry="$registry" -p:ContainerBaseImage="$base" \
      -p:ContainerRepository="bench-$tool-$scenario" -p:ContainerImageTag=latest "${props[@]}" -p:ContainerInsecureRegistries="$registry" \
      -v:n -clp:PerformanceSummary -nodeReuse:false >"$log" 2>&1) || { echo "publish failed for $tool/$scenario, see $log:" >&2; tail -30 "$log" >&2; exit 1; }
  end=$(date +%s%N)
  sleep 0.5
  after="$(cat "$work/uploaded")"
  local step
  if [ "$tool" = builtin ]; then
    step="$(task_ms "$log" 'ComputeDotnetBaseImageAndTag|ParseContainerProperties|CreateNewImage|CreateImageIndex')"
  else
    step="$(task_ms "$log" 'Containers\.Sdk|ComputeContainer|PublishContainerImage|BuildContainerImage|StartContainerBuildServer')"
  fi
  step_ms[$tool-$scenario]="$step"
  local rss_mb server_mb="—" server_pid
  rss_mb=$(( $(tail -1 "$work/$tool-$scenario.rss") / 1024 ))
  server_pid="$(sed -n 's/.*Started the Containers\.Sdk build server (pid \([0-9]*\)).*/\1/p' "$log" | head -1)"
  if [ -n "$server_pid" ] && [ -r "/proc/$server_pid/status" ]; then
    server_mb=$(( $(awk '/^VmHWM:/{print $2}' "/proc/$server_pid/status") / 1024 ))
    # The server this run started: stopped by its id so the next scenario starts cold and the machine stays quiet.
    kill "$server_pid" 2>/dev/null || true
  fi
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$scenario" "$tool" "$step" "$(( after - before ))" "$(( (end - start) / 1000000 ))" "$rss_mb" "$server_mb"
}

for s in "${scenarios[@]}"; do [ "$s" = 1gb-x64 ] && { echo "== generating 1 GB" >&2; make_gigabyte "$work/gigabyte"; }; done
echo "| scenario | tool | container step (ms) | bytes sent to registry | whole publish (ms) | publish max RSS (MB) | server peak (MB) |"
echo "|---|---|---:|---:|---:|---:|---:|"
for s in "${scenarios[@]}"; do
  echo "== $s" >&2
  run builtin "$s"
  run ours "$s"
done
echo
for s in "${scenarios[@]}"; do
  awk -v s="$s" -v o="${step_ms[ours-$s]}" -v b="${step_ms[builtin-$s]}" 'BEGIN{printf "%s: ours/built-in container step = %.2f\n", s, (b > 0 ? o / b : 0)}'
done
