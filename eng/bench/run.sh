#!/usr/bin/env bash
# `dotnet container run -d -p` and `dotnet container run -p` (foreground) of samples/WebApi from an OCI layout whose
# root filesystem the host has unpacked already, to the first GET /healthz 200 — against hand-run runc on the same image, unpacked once with umoci, started with
# `runc run -d` (host network, the same port): what the tool costs over the runtime alone. Same machine, same run,
# alternating, median of N each. Goal (issue 13): overhead <= 50 ms.
# Needs root, eng/install-deps.sh and eng/base-images.sh done.
# Usage: sudo bash eng/bench/run.sh [runs]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# The app's own start (300-450 ms here) varies by tens of milliseconds from run to run, more than the overhead measured:
# medians of 21 or more runs each are needed before differences of 10 ms mean anything.
runs="${1:-21}"
work="$(mktemp -d /tmp/containers-sdk-run-bench-XXXXXX)"
registry_pid=""
cleanup() {
  runc delete --force "run-bench-$$" >/dev/null 2>&1 || true
  [[ -x "$work/tools/dotnet-container" ]] && "$work/tools/dotnet-container" rm -f "run-bench-$$" >/dev/null 2>&1 || true
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null
  wait 2>/dev/null || true
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 MSBUILDDISABLENODEREUSE=1
# The tool's state and caches apart from the machine's, so nothing of another run is measured.
export CONTAINERS_CLI_STATE_DIRECTORY="$work/state"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
port="$(free_port)"
printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$work/registry" "$port" > "$work/registry.yml"
/usr/bin/docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
bash "$repo/eng/push-base-images.sh" "127.0.0.1:$port" >/dev/null 2>&1
echo "== packing, publishing samples/WebApi into an OCI layout, installing the tool" >&2
# Packing restores the repository's projects: with the machine's package folder, so their obj/ never points into this
# run's private one (deleted on exit). The sample is restored into the private one: a re-packed package of the same
# version is never served stale.
dotnet pack "$repo" -c Release -o "$work/feed" -v quiet -nologo >/dev/null
export NUGET_PACKAGES="$work/nuget"
version="$(ls "$work/feed" | sed -n 's/^Containers\.Sdk\.\([0-9].*\)\.nupkg$/\1/p' | head -1)"
# The sample as a user has it, restoring from this run's feed.
cp "$repo/samples/Directory.Build.props" "$repo/samples/Directory.Build.targets" "$work/"
cp -r "$repo/samples/WebApi" "$work/WebApi"
rm -rf "$work/WebApi/bin" "$work/WebApi/obj"
printf '<configuration><packageSources><add key="feed" value="%s" /></packageSources></configuration>\n' "$work/feed" > "$work/NuGet.config"
dotnet publish "$work/WebApi" -c Release -nologo -v quiet -t:PublishContainer -p:ContainersSdkVersion="$version" \
  -p:ContainerUseBuildServer=false -p:ContainerBaseRegistry="127.0.0.1:$port" -p:ContainerOciLayoutPath="$work/layout" \
  -p:ContainerImageTag=bench -p:ContainerLayerCacheDirectory="$work/layer-cache" >/dev/null
dotnet tool install --tool-path "$work/tools" --add-source "$work/feed" Containers.Cli --version "$version" >/dev/null
tool="$work/tools/dotnet-container"

echo "== the same image for runc: umoci unpack, host network, the app on a fixed port" >&2
umoci unpack --image "$work/layout:bench" "$work/bundle" >/dev/null
app_port="$(free_port)"
python3 - "$work/bundle/config.json" "$app_port" <<'PY'
import json, sys
path, port = sys.argv[1], sys.argv[2]
c = json.load(open(path))
c["process"]["terminal"] = False
c["process"]["env"] = [e for e in c["process"]["env"] if not e.startswith("ASPNETCORE_HTTP_PORTS=")] + ["ASPNETCORE_HTTP_PORTS=" + port]
c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "network"]
json.dump(c, open(path, "w"))
PY

# Runs a command and polls http://127.0.0.1:PORT/healthz every 2 ms from the moment it is started; prints the
# milliseconds to the first 200. A detached start returns by itself; with --foreground the command keeps running (its
# output streamed) and is interrupted as Ctrl+C would, once answered.
cat > "$work/time-to-200.py" <<'PY'
import signal, subprocess, sys, time, urllib.request
foreground = sys.argv[1] == "--foreground"
port, command = (sys.argv[2], sys.argv[3:]) if foreground else (sys.argv[1], sys.argv[2:])
start = time.monotonic()
process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
while True:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
            if r.status == 200:
                break
    except Exception:
        pass
    if time.monotonic() - start > 60:
        sys.exit("no answer within 60 s")
    time.sleep(0.002)
print(round((time.monotonic() - start) * 1000))
if foreground:
    process.send_signal(signal.SIGINT)
process.wait()
PY

name="run-bench-$$"
ours_port="$(free_port)"
echo "== letting the machine settle: build servers stopped, written files flushed" >&2
# The pack and the publish leave compiler and MSBuild servers and dirty pages behind; measured right after them, the
# first runs of every contender came out 50-100 ms slower than the rest.
dotnet build-server shutdown >/dev/null 2>&1 || true
sync
sleep 5
echo "== warming up (the tool unpacks the image's root filesystem once; both runtimes' files are in the page cache)" >&2
"$tool" run -d --rm --name "$name" -p "$ours_port:8080" "oci:$work/layout:bench" >/dev/null
for _ in $(seq 1 300); do curl -fsS "http://127.0.0.1:$ours_port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
"$tool" rm -f "$name" >/dev/null
(cd "$work/bundle" && runc run -d "$name" </dev/null >/dev/null 2>&1)
for _ in $(seq 1 300); do curl -fsS "http://127.0.0.1:$app_port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
runc delete --force "$name"

ours=() foreground=() peer=()
for i in $(seq 1 "$runs"); do
  ours+=("$(python3 "$work/time-to-200.py" "$ours_port" "$tool" run -d --name "$name" -p "$ours_port:8080" "oci:$work/layout:bench")")
  "$tool" rm -f "$name" >/dev/null
  foreground+=("$(python3 "$work/time-to-200.py" --foreground "$ours_port" "$tool" run --rm --name "$name" -p "$ours_port:8080" "oci:$work/layout:bench")")
  "$tool" rm -f "$name" >/dev/null 2>&1 || true
  peer+=("$(cd "$work/bundle" && python3 "$work/time-to-200.py" "$app_port" runc run -d "$name")")
  runc delete --force "$name"
  echo "run $i: dotnet container run -d ${ours[-1]} ms, run ${foreground[-1]} ms, runc ${peer[-1]} ms" >&2
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }
m_ours="$(median "${ours[@]}")"; m_foreground="$(median "${foreground[@]}")"; m_peer="$(median "${peer[@]}")"
echo "| tool | start to first GET /healthz 200 (ms, median of $runs) | runs |"
echo "|---|---:|---|"
echo "| dotnet container run -d -p (detached: supervisor, private network, port forwarder) | $m_ours | ${ours[*]} |"
echo "| dotnet container run -p (foreground: private network, port forwarder) | $m_foreground | ${foreground[*]} |"
echo "| runc run -d by hand (host network) | $m_peer | ${peer[*]} |"
echo "overhead: run -d $((m_ours - m_peer)) ms, run $((m_foreground - m_peer)) ms (goal <= 50 ms)"
