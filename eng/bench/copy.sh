#!/usr/bin/env bash
# `dotnet container copy` versus `skopeo copy` of the same image in the same run: the test base image
# dotnet/aspnet:10.0 (eng/base-images.sh) pushed to a throwaway distribution registry, copied
# registry -> OCI layout and registry -> another registry (a fresh throwaway one per copy, so neither tool
# can mount or skip blobs), a fresh destination every time. Prints each run and the median of RUNS (default 3) in MB/s
# (image bytes = config + compressed layers, 10^6 bytes per MB).
# Usage: bash eng/bench/copy.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-3}"
layout_dir="${CONTAINERS_SDK_TEST_IMAGES:-/var/cache/containers-sdk-tests/base-images}"
registry_bin="$(command -v docker-registry || echo /usr/bin/docker-registry)"
[[ -x "$registry_bin" ]] || { echo "copy.sh: docker-registry not found; run: sudo bash eng/install-deps.sh" >&2; exit 1; }
command -v skopeo >/dev/null || { echo "copy.sh: skopeo not found; run: sudo bash eng/install-deps.sh" >&2; exit 1; }
[[ -f "$layout_dir/index.json" ]] || { echo "copy.sh: no base images at $layout_dir; run: sudo bash eng/base-images.sh" >&2; exit 1; }

work="$(mktemp -d /tmp/copy-bench-XXXXXX)"
# Registries start inside $(...) subshells: their pids are kept in a file for the cleanup.
cleanup() { [[ -f "$work/pids" ]] && while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$work/pids"; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start_registry() { # name -> host:port
  local port; port="$(free_port)"
  mkdir -p "$work/$1"
  cat > "$work/$1.yml" <<YAML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/$1}}
http: {addr: 127.0.0.1:$port}
YAML
  "$registry_bin" serve "$work/$1.yml" >"$work/$1.log" 2>&1 &
  echo $! >>"$work/pids"
  for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
  echo "127.0.0.1:$port"
}

source_registry="$(start_registry source)"
skopeo copy --quiet --dest-tls-verify=false "oci:$layout_dir:aspnet-10.0" "docker://$source_registry/dotnet/aspnet:10.0"
image="$source_registry/dotnet/aspnet:10.0"
bytes="$(skopeo inspect --raw --tls-verify=false "docker://$image" | python3 -c 'import json,sys; m=json.load(sys.stdin); print(m["config"]["size"]+sum(l["size"] for l in m["layers"]))')"

# The tool as its linux-x64 package ships it: one native executable (Native AOT).
dotnet publish src/Containers.Cli -c Release -r linux-x64 -nologo -v:q -o "$work/tool" >/dev/null
tool="$work/tool/dotnet-container"

seconds() { local start end; start=$(date +%s.%N); "$@" >/dev/null 2>&1; end=$(date +%s.%N); echo "$end - $start" | bc -l; }
mbps() { echo "scale=1; $bytes / 1000000 / $1" | bc -l; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "image: $image, $bytes bytes; $runs runs"
declare -A results
for run in $(seq "$runs"); do
  for case in layout registry; do
    for tool_name in skopeo ours; do
      if [[ $case == layout ]]; then
        destination_skopeo="oci:$work/$tool_name-$run:x"; destination_ours="oci:$work/$tool_name-$run:x"
      else
        # A fresh registry each time: skopeo's blob-info cache would otherwise mount blobs a previous run pushed.
        target_registry="$(start_registry "target-$tool_name-$run")"
        destination_skopeo="docker://$target_registry/$tool_name/aspnet:10.0"; destination_ours="$target_registry/$tool_name/aspnet:10.0"
      fi
      if [[ $tool_name == skopeo ]]; then
        s=$(seconds skopeo copy --quiet --src-tls-verify=false --dest-tls-verify=false "docker://$image" "$destination_skopeo")
      else
        s=$(seconds "$tool" copy "$image" "$destination_ours")
      fi
      results[$case-$tool_name]+="$(mbps "$s") "
      echo "run $run $case $tool_name: ${s:0:6} s, $(mbps "$s") MB/s"
    done
  done
  rm -rf "$work"/skopeo-* "$work"/ours-*
done
for case in layout registry; do
  # shellcheck disable=SC2086
  s=$(median ${results[$case-skopeo]}); o=$(median ${results[$case-ours]})
  echo "BENCH copy registry->$case: skopeo $s MB/s, dotnet container $o MB/s, ratio $(echo "scale=2; $o / $s" | bc -l)x"
done
