#!/usr/bin/env bash
# End-to-end demonstration of the test environment, with nothing from the internet:
#   1. installs the Debian packages the tests need (eng/install-deps.sh),
#   2. builds the test base images from this machine's files (eng/base-images.sh, cached),
#   3. starts a throwaway distribution registry on a free 127.0.0.1 port,
#   4. pushes the base images to it with skopeo (eng/push-base-images.sh),
#   5. packs Containers.Sdk and publishes samples/WebApi as an image with
#      `dotnet publish -t:PublishContainer` onto the pushed dotnet/aspnet:10.0,
#   6. pulls the app image back, unpacks it with umoci, runs it with runc and calls /healthz.
# Everything it starts is stopped, and everything it writes under /tmp is deleted, on exit.
#
# Usage: sudo bash eng/demo.sh            (root: apt-get, debootstrap, runc)
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
step() { printf '\n==> %s\n' "$*"; }

[[ "$(id -u)" -eq 0 ]] || { echo "demo: must run as root (apt-get, debootstrap, runc): sudo bash $0" >&2; exit 1; }

step "Installing missing test dependencies (eng/install-deps.sh)"
bash "$script_dir/install-deps.sh"

step "Building the test base images (eng/base-images.sh; a few minutes the first time, seconds after)"
bash "$script_dir/base-images.sh"

work_dir="$(mktemp -d /tmp/containers-sdk-demo-XXXXXX)"
registry_pid=""
container_id="containers-sdk-demo-$$"
cleanup() {
  runc kill "$container_id" SIGKILL >/dev/null 2>&1 || true
  runc delete --force "$container_id" >/dev/null 2>&1 || true
  if [[ -n "$registry_pid" ]]; then
    kill "$registry_pid" 2>/dev/null || true
    wait "$registry_pid" 2>/dev/null || true
  fi
  rm -rf --one-file-system "$work_dir"
}
trap cleanup EXIT

step "Starting a distribution registry on 127.0.0.1"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
registry="127.0.0.1:$port"
cat >"$work_dir/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $work_dir/storage
  delete:
    enabled: true
http:
  addr: $registry
EOF
docker-registry serve "$work_dir/config.yml" >"$work_dir/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 1 100); do
  if python3 -c "import urllib.request; urllib.request.urlopen('http://$registry/v2/', timeout=1)" 2>/dev/null; then break; fi
  kill -0 "$registry_pid" 2>/dev/null || { cat "$work_dir/registry.log" >&2; echo "demo: the registry exited" >&2; exit 1; }
  sleep 0.1
done
echo "registry: http://$registry (pid $registry_pid, storage $work_dir/storage)"

step "Pushing the base images with skopeo (eng/push-base-images.sh $registry)"
bash "$script_dir/push-base-images.sh" "$registry"
echo "repositories in the registry:"
python3 -c "import json, urllib.request; print('\n'.join('  ' + r for r in json.load(urllib.request.urlopen('http://$registry/v2/_catalog'))['repositories']))"
skopeo inspect --tls-verify=false "docker://$registry/dotnet/aspnet:10.0" \
  | jq -r '"dotnet/aspnet:10.0: \(.Digest), \(.Layers | length) layers, \(.Architecture)/\(.Os)", "  env: \(.Env | join(" "))"'
skopeo inspect --raw --tls-verify=false "docker://$registry/dotnet/multiarch:10.0" \
  | jq -r '"dotnet/multiarch:10.0: index of " + ([.manifests[].platform | "\(.os)/\(.architecture)\(if .variant then "/" + .variant else "" end)"] | join(", "))'

step "Packing Containers.Sdk into .artifacts/feed (the local feed samples/NuGet.config names)"
repo_root="$(cd "$script_dir/.." && pwd)"
dotnet pack "$repo_root" -c Release -o "$repo_root/.artifacts/feed" -nologo -v quiet
version="$(sed -n 's|.*<Version>\(.*\)</Version>.*|\1|p' "$repo_root/Directory.Build.props" | head -1)"

step "Publishing samples/WebApi as an image with dotnet publish -t:PublishContainer (no Docker, no Dockerfile)"
# A private package folder, so a re-packed package of the same version is never served stale.
# ContainerBaseRegistry points the inferred base image (dotnet/aspnet:10.0) at the local registry.
# One publish: no build server is started (it would outlive the demo; docs/build-server.md).
NUGET_PACKAGES="$work_dir/nuget" dotnet publish "$repo_root/samples/WebApi" -c Release -nologo \
  -t:PublishContainer -p:ContainersSdkVersion="$version" -p:ContainerUseBuildServer=false \
  -p:ContainerRegistry="$registry" -p:ContainerBaseRegistry="$registry" -p:ContainerImageTag=demo \
  -p:ContainerLayerCacheDirectory="$work_dir/layer-cache"
skopeo inspect --tls-verify=false "docker://$registry/samples/web-api:demo" \
  | jq -r '"samples/web-api:demo: \(.Digest), \(.Layers | length) layers, \(.Architecture)/\(.Os)"'

step "Pulling the app image back from the registry and unpacking it with umoci"
skopeo copy --quiet --src-tls-verify=false "docker://$registry/samples/web-api:demo" "oci:$work_dir/pulled:web-api"
umoci unpack --image "$work_dir/pulled:web-api" "$work_dir/bundle" >/dev/null
echo "bundle: $work_dir/bundle ($(du -sh "$work_dir/bundle/rootfs" | cut -f1) root filesystem)"

step "Running the app with runc and calling it on 127.0.0.1:8080"
if python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 8080))' 2>/dev/null; then :; else
  echo "demo: port 8080 on 127.0.0.1 is taken; stop what listens there and run again" >&2; exit 1
fi
# umoci writes a runtime-spec config.json with the image's entrypoint, env, user and working
# directory. Share the host network (no network namespace) so 127.0.0.1:8080 reaches the app,
# run without a terminal, and drop the rlimits, which may exceed this process's own.
jq '.process.terminal = false
    | del(.process.rlimits)
    | .linux.namespaces |= map(select(.type != "network"))' \
  "$work_dir/bundle/config.json" >"$work_dir/bundle/config.json.new"
mv "$work_dir/bundle/config.json.new" "$work_dir/bundle/config.json"
runc run --detach --bundle "$work_dir/bundle" "$container_id" </dev/null >"$work_dir/app.log" 2>&1
answer=""
for _ in $(seq 1 100); do
  answer="$(python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=1).read().decode())" 2>/dev/null)" && break
  sleep 0.1
done
[[ "$answer" == ok ]] || { echo "demo: the app did not answer /healthz; its output:" >&2; cat "$work_dir/app.log" >&2; exit 1; }
echo "GET /healthz -> $answer"
echo "GET /todos   -> $(python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8080/todos', timeout=2).read().decode())")"
runc kill "$container_id" SIGTERM
for _ in $(seq 1 50); do [[ "$(runc state "$container_id" 2>/dev/null | jq -r .status)" == stopped ]] && break; sleep 0.1; done

step "Done: the sample's image was built from dotnet publish output by Containers.Sdk, pushed to and pulled from a local registry, and run with runc — nothing downloaded from a registry. The registry is stopped and $work_dir removed on exit."
