#!/usr/bin/env bash
# End-to-end demonstration, with nothing from the internet:
#   1. installs the Debian packages the tests need (eng/install-deps.sh),
#   2. builds the test base images from this machine's files (eng/base-images.sh, cached),
#   3. starts a throwaway distribution registry on a free 127.0.0.1 port and pushes the base images
#      to it with skopeo (eng/push-base-images.sh): the inferred base image dotnet/aspnet:10.0 comes from there,
#   4. packs Containers.Sdk and Containers.Cli into .artifacts/feed and publishes samples/WebApi
#      into an OCI layout with `dotnet publish -t:PublishContainer`,
#   5. installs the `dotnet container` tool from that feed,
#   6. runs the layout with `dotnet container run -d -p 8080:8080 oci:...`, calls /healthz, lists,
#      reads its logs, and stops and removes it with `dotnet container stop` / `rm`.
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
container_name="web-api-demo-$$"
cleanup() {
  if [[ -x "$work_dir/tools/dotnet-container" ]]; then
    "$work_dir/tools/dotnet-container" rm -f "$container_name" >/dev/null 2>&1 || true
  fi
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

step "Packing Containers.Sdk and Containers.Cli into .artifacts/feed (the local feed samples/NuGet.config names)"
repo_root="$(cd "$script_dir/.." && pwd)"
dotnet pack "$repo_root" -c Release -o "$repo_root/.artifacts/feed" -nologo -v quiet
version="$(sed -n 's|.*<Version>\(.*\)</Version>.*|\1|p' "$repo_root/Directory.Build.props" | head -1)"
ls "$repo_root/.artifacts/feed" | sed 's/^/  /'

step "Publishing samples/WebApi into an OCI layout with dotnet publish -t:PublishContainer (no Docker, no Dockerfile)"
# A private package folder, so a re-packed package of the same version is never served stale.
# ContainerBaseRegistry points the inferred base image (dotnet/aspnet:10.0) at the local registry.
# One publish: no build server is started (it would outlive the demo; docs/build-server.md).
export NUGET_PACKAGES="$work_dir/nuget"
dotnet publish "$repo_root/samples/WebApi" -c Release -nologo \
  -t:PublishContainer -p:ContainersSdkVersion="$version" -p:ContainerUseBuildServer=false \
  -p:ContainerBaseRegistry="$registry" -p:ContainerOciLayoutPath="$work_dir/web-api" -p:ContainerImageTag=demo \
  -p:ContainerLayerCacheDirectory="$work_dir/layer-cache"

step "Installing the dotnet container tool (Containers.Cli) from the local feed"
dotnet tool install --tool-path "$work_dir/tools" --add-source "$repo_root/.artifacts/feed" Containers.Cli --version "$version"
# On PATH, `dotnet container` finds it (as `dotnet ef` finds dotnet-ef).
export PATH="$work_dir/tools:$PATH"

step "Running the image with dotnet container run -d -p 8080:8080 and calling it on 127.0.0.1:8080"
if python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 8080))' 2>/dev/null; then :; else
  echo "demo: port 8080 on 127.0.0.1 is taken; stop what listens there and run again" >&2; exit 1
fi
dotnet container run -d --name "$container_name" -p 8080:8080 "oci:$work_dir/web-api:demo"
answer=""
for _ in $(seq 1 100); do
  answer="$(python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=1).read().decode())" 2>/dev/null)" && break
  sleep 0.1
done
[[ "$answer" == ok ]] || { echo "demo: the app did not answer /healthz; its output:" >&2; dotnet container logs "$container_name" >&2; exit 1; }
echo "GET /healthz -> $answer"
echo "GET /todos   -> $(python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8080/todos', timeout=2).read().decode())")"
dotnet container ps
echo "its output:"
dotnet container logs "$container_name" | sed 's/^/  /'

step "Stopping and removing it with dotnet container stop / rm"
dotnet container stop "$container_name"
dotnet container rm "$container_name"

step "Done: the sample's image was built from dotnet publish output by Containers.Sdk into an OCI layout and run with dotnet container (the runtime host: runc, no Docker) — nothing downloaded from a registry. The registry is stopped and $work_dir removed on exit."
