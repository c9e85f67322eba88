#!/usr/bin/env bash
# Pushes the test base images made by eng/base-images.sh to a registry, with skopeo, as
#
#   <registry>/dotnet/runtime-deps:10.0   <- runtime-deps-10.0
#   <registry>/dotnet/runtime:10.0        <- runtime-10.0
#   <registry>/dotnet/aspnet:10.0         <- aspnet-10.0
#   <registry>/dotnet/multiarch:10.0      <- multiarch-10.0 (an index: the whole index and both
#                                            platform manifests are pushed)
#
# Usage: bash eng/push-base-images.sh <host:port> [--creds user:password]
# TLS verification is off: this is for the loopback registries that tests and eng/demo.sh start
# (plain HTTP). The layout is ${CONTAINERS_SDK_TEST_IMAGES:-/var/cache/containers-sdk-tests/base-images}.
set -euo pipefail

usage() { echo "usage: $0 <host:port> [--creds user:password]" >&2; exit 2; }
[[ $# -ge 1 ]] || usage
registry="$1"; shift
creds_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --creds) [[ $# -ge 2 ]] || usage; creds_args=(--dest-creds "$2"); shift 2 ;;
    *) usage ;;
  esac
done

layout_dir="${CONTAINERS_SDK_TEST_IMAGES:-/var/cache/containers-sdk-tests/base-images}"
[[ -f "$layout_dir/index.json" ]] || { echo "push-base-images: no OCI layout at $layout_dir; run: sudo bash eng/base-images.sh" >&2; exit 1; }
command -v skopeo >/dev/null 2>&1 || { echo "push-base-images: skopeo not found; run: sudo bash eng/install-deps.sh" >&2; exit 1; }

# layout ref -> repository under <registry>/dotnet, all tagged 10.0
declare -A repositories=(
  [runtime-deps-10.0]=runtime-deps
  [runtime-10.0]=runtime
  [aspnet-10.0]=aspnet
  [multiarch-10.0]=multiarch
)
for ref in runtime-deps-10.0 runtime-10.0 aspnet-10.0 multiarch-10.0; do
  destination="$registry/dotnet/${repositories[$ref]}:10.0"
  skopeo copy --quiet --all --dest-tls-verify=false "${creds_args[@]}" \
    "oci:$layout_dir:$ref" "docker://$destination"
  echo "push-base-images: $ref -> $destination" >&2
done
