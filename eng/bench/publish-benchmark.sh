#!/usr/bin/env bash
# Compares Containers.Sdk with the .NET SDK's built-in container support in one run: the same
# ASP.NET app (EF Core Sqlite, Serilog, Swashbuckle), the same base image, the same local registry.
# For each tool: a cold publish, a no-change publish and a one-line-change publish, measuring
#   - container-step time: the MSBuild tasks that build and push the image (from -clp:PerformanceSummary)
#   - bytes uploaded: everything the tool sent to the registry, counted by a TCP proxy in front of it.
# Writes a Markdown table to stdout (and to $1 when given).
# Needs: eng/install-deps.sh, eng/base-images.sh done; run from anywhere.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out_table="${1:-}"
work="$(mktemp -d /tmp/containers-sdk-bench-XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
# BENCH_KEEP=1 keeps the work directory, registry and proxy running for profiling (kill them afterwards).
if [ -z "${BENCH_KEEP:-}" ]; then trap cleanup EXIT; else echo "keeping $work" >&2; fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0
# A cold publish is cold: the run's own data directory, so Containers.Sdk's layer cache starts empty and its
# build server is one this run starts (its socket lives there; it exits when cleanup deletes its package).
export XDG_DATA_HOME="$work/data"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

echo "== packing Containers.Sdk" >&2
dotnet pack "$repo" -c Release -o "$work/feed" >/dev/null

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
skopeo copy -q --dest-tls-verify=false "oci:$layout:aspnet-10.0" "docker://127.0.0.1:$reg_port/dotnet/aspnet:10.0"
base="$registry/dotnet/aspnet:10.0"

echo "== creating the app" >&2
make_app() { # dir
  dotnet new webapi -n BenchApp -o "$1" --no-openapi >/dev/null
  (cd "$1" && dotnet add package Microsoft.EntityFrameworkCore.Sqlite --version 10.0.15 >/dev/null \
    && dotnet add package Serilog.AspNetCore --version 10.0.0 >/dev/null \
    && dotnet add package Swashbuckle.AspNetCore --version 11.0.1 >/dev/null)
  cat > "$1/Program.cs" <<'CS'
using Microsoft.EntityFrameworkCore;
using Serilog;
var builder = WebApplication.CreateBuilder(args);
builder.Host.UseSerilog((context, logger) => logger.WriteTo.Console());
builder.Services.AddDbContext<BenchDb>(o => o.UseSqlite("Data Source=/tmp/bench.db"));
builder.Services.AddEndpointsApiExplorer();
builder.Services.AddSwaggerGen();
var app = builder.Build();
app.UseSwagger();
app.MapGet("/healthz", () => "ok");
app.Run();
public sealed class BenchDb(DbContextOptions<BenchDb> options) : DbContext(options);
CS
}
make_app "$work/builtin"
make_app "$work/ours"
cat > "$work/ours/NuGet.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration><packageSources><add key="bench-feed" value="$work/feed" /></packageSources></configuration>
XML
version="$(ls "$work/feed" | sed -n 's/^Containers\.Sdk\.\(.*\)\.nupkg$/\1/p' | head -1)"
(cd "$work/ours" && NUGET_PACKAGES="$work/nuget" dotnet add package Containers.Sdk --version "$version" >/dev/null)

# Sums the named tasks' times from an MSBuild performance summary (ms).
task_ms() { # log task-regex
  awk -v re="$2" '/Task Performance Summary/{t=1} t && $0 ~ re {gsub(/ms/,"",$1); s+=$1} END{printf "%d", s}' "$1"
}

run() { # tool scenario
  local tool="$1" scenario="$2" dir="$work/$1" log="$work/$1-$2.log" before after
  before="$(cat "$work/uploaded")"
  local start end
  start=$(date +%s%N)
  (cd "$dir" && NUGET_PACKAGES="$work/nuget" DOTNET_CONTAINER_INSECURE_REGISTRIES="$registry" \
    dotnet publish -c Release -t:PublishContainer -p:ContainerRegistry="$registry" -p:ContainerBaseImage="$base" \
      -p:ContainerRepository="bench-$tool" -p:ContainerImageTag=latest -p:ContainerRuntimeIdentifier=linux-x64 -p:RuntimeIdentifier=linux-x64 \
      -p:ContainerInsecureRegistries="$registry" \
      -clp:PerformanceSummary -nodeReuse:false >"$log" 2>&1) || { echo "publish failed for $tool/$scenario, see $log:" >&2; tail -30 "$log" >&2; exit 1; }
  end=$(date +%s%N)
  sleep 0.5
  after="$(cat "$work/uploaded")"
  local step
  if [ "$tool" = builtin ]; then
    step="$(task_ms "$log" 'ComputeDotnetBaseImageAndTag|ParseContainerProperties|CreateNewImage|CreateImageIndex')"
  else
    step="$(task_ms "$log" 'Containers\.Sdk|ComputeContainer|PublishContainerImage|BuildContainerImage|StartContainerBuildServer')"
  fi
  printf '| %s | %s | %s | %s | %s |\n' "$tool" "$scenario" "$step" "$(( after - before ))" "$(( (end - start) / 1000000 ))"
}

table="$work/table.md"
{
  echo "| tool | publish | container step (ms) | bytes sent to registry | whole publish (ms) |"
  echo "|---|---|---:|---:|---:|"
  for tool in builtin ours; do
    run "$tool" cold
    run "$tool" no-change
    sed -i 's|app.MapGet("/healthz", () => "ok");|app.MapGet("/healthz", () => "ok!");|' "$work/$tool/Program.cs"
    run "$tool" one-line-change
  done
} | tee "$table"
if [ -n "$out_table" ]; then cp "$table" "$out_table"; fi
