#!/usr/bin/env bash
# Installs the Debian packages the test suite and the eng/ scripts need, but only those that are
# missing. Idempotent: when everything is present it only runs dpkg-query and returns in well
# under a second (no `apt-get update`, no network).
#
# Usage: sudo bash eng/install-deps.sh
#
# The docker-registry package ships a system service listening on :5000. Tests start their own
# registries on free loopback ports, so the packaged service must not run: it is kept from
# starting during installation (policy-rc.d) and stopped/disabled if it is running anyway.
set -euo pipefail

readonly REQUIRED_PACKAGES=(
  docker-registry   # the distribution registry (v2.8) the tests start on 127.0.0.1
  skopeo            # independent client: inspect/copy images
  umoci             # builds the test base images; unpacks images in interop tests
  runc              # runs unpacked images (demo, runtime tests)
  podman            # `podman load` checks docker-archive tarballs
  containerd        # containerd, ctr and containerd-shim-runc-v2: LocalRegistry=containerd tests start their own on a private socket
  debootstrap       # the minbase root filesystem of the test base images
  apache2-utils     # htpasswd, for the Basic-auth test registry
  jq                # JSON edits in eng/ scripts
  zstd              # zstd layers in interop tests
  pigz              # checks block-parallel gzip layers (pigz -t) and is the bar of eng/bench/layers.sh
  clang             # links the dotnet container tool's Native AOT executable (dotnet pack of src/Containers.Cli)
  tar
  gzip
  git
  iproute2
  uidmap            # newuidmap/newgidmap for podman
  python3
  nodejs            # runs eng/sigstore/verify.js: npm's @sigstore/verify checks our signature bundles
  dpkg-dev          # dpkg-scanpackages: indexes the local apt repository of the OS package tests
  apt-utils         # apt-ftparchive: writes that repository's Release
  gnupg             # gpg: signs it (InRelease, Release.gpg) with a throwaway key
  xz-utils          # xz: compresses its Packages index
)

log() { printf 'install-deps: %s\n' "$*" >&2; }

if [[ "$(id -u)" -ne 0 ]]; then
  log "must run as root (apt-get installs packages): sudo bash $0"
  exit 1
fi

# One dpkg-query for all packages; unknown packages are simply absent from its output.
declare -A installed=()
while read -r package status; do
  if [[ "$status" == "installed" ]]; then installed["$package"]=1; fi
done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${REQUIRED_PACKAGES[@]}" 2>/dev/null || true)
missing=()
for package in "${REQUIRED_PACKAGES[@]}"; do
  if [[ -z "${installed[$package]:-}" ]]; then missing+=("$package"); fi
done

registry_service_running() {
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
    systemctl is-active --quiet docker-registry.service 2>/dev/null
  elif [[ -f /run/docker-registry.pid ]]; then
    kill -0 "$(cat /run/docker-registry.pid)" 2>/dev/null
  else
    # Without an init system the packaged service runs as `docker-registry serve /etc/docker/registry/config.yml`.
    pgrep -f '^/usr/bin/docker-registry serve /etc/docker/registry/config.yml' >/dev/null 2>&1
  fi
}

stop_registry_service() {
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
    systemctl stop docker-registry.service 2>/dev/null || true
    systemctl disable docker-registry.service 2>/dev/null || true
  elif [[ -x /etc/init.d/docker-registry ]]; then
    /etc/init.d/docker-registry stop >/dev/null 2>&1 || true
  fi
  # Last resort, and only the packaged instance (its fixed config path), never the tests' registries.
  pkill -f '^/usr/bin/docker-registry serve /etc/docker/registry/config.yml' 2>/dev/null || true
}

if [[ ${#missing[@]} -eq 0 ]]; then
  log "all ${#REQUIRED_PACKAGES[@]} packages present"
else
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Keep maintainer scripts from starting services (docker-registry) during installation,
  # unless the machine already has its own policy.
  policy_file=/usr/sbin/policy-rc.d
  created_policy=false
  if [[ ! -e "$policy_file" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy_file"
    chmod 0755 "$policy_file"
    created_policy=true
  fi
  cleanup_policy() { if [[ "$created_policy" == true ]]; then rm -f "$policy_file"; fi; }
  trap cleanup_policy EXIT

  apt-get update -qq
  # With recommends, as on a normal install: podman needs slirp4netns/fuse-overlayfs/catatonit.
  apt-get install -y -qq "${missing[@]}"

  cleanup_policy
  trap - EXIT
  log "installed ${#missing[@]} package(s)"
fi

# npm's @sigstore/verify (with @sigstore/bundle and @sigstore/core, its dependencies) verifies our sigstore bundles
# independently of our C# verifier (tests/Containers.TestSupport/TestSigstore.cs). Pinned; installed once into a
# cache directory outside the repository; through npm, the registry's ordinary client.
readonly sigstore_js_version=3.1.1
readonly sigstore_js_dir="${CONTAINERS_SDK_SIGSTORE_JS:-/var/cache/containers-sdk-tests/sigstore-js}"
if ! command -v npm >/dev/null 2>&1; then
  # Debian's nodejs comes without npm; a nodejs package that bundles npm (NodeSource's) conflicts with Debian's.
  log "installing npm"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm
fi
if [[ "$(cat "$sigstore_js_dir/node_modules/@sigstore/verify/package.json" 2>/dev/null | grep -o '"version": *"[^"]*"' | head -1)" != *"\"$sigstore_js_version\""* ]]; then
  log "installing @sigstore/verify@$sigstore_js_version into $sigstore_js_dir"
  mkdir -p "$sigstore_js_dir"
  [[ -f "$sigstore_js_dir/package.json" ]] || printf '{"name":"containers-sdk-sigstore-js","private":true}\n' >"$sigstore_js_dir/package.json"
  npm install --prefix "$sigstore_js_dir" --no-audit --no-fund --loglevel=error "@sigstore/verify@$sigstore_js_version" >&2
fi

# The OS package tests (tests/Containers.TestSupport/LocalAptRepository.cs) build their repository from real bookworm
# .debs that `apt-get download` fetches once into /var/cache/containers-sdk-tests/debs; that needs apt's package
# lists, which a fresh image whose packages are all present may not have (no `apt-get update` ran above).
if ! apt-cache show --no-all-versions curl fonts-dejavu-core >/dev/null 2>&1; then
  log "apt's package lists do not know curl/fonts-dejavu-core (the OS package tests download them): apt-get update"
  apt-get update -qq
fi

if registry_service_running; then
  log "stopping the packaged docker-registry service (tests start their own registries)"
  stop_registry_service
fi
