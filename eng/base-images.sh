#!/usr/bin/env bash
# Builds the test base images from this machine's own files — nothing is pulled from a registry.
#
#   runtime-deps-10.0  debootstrap --variant=minbase bookworm + libicu72, libssl3, ca-certificates,
#                      tzdata, zlib1g; user `app` (uid/gid 1654, home /home/app)      2 layers
#   runtime-10.0       + /usr/share/dotnet (dotnet host, host/fxr, Microsoft.NETCore.App) and
#                      /usr/bin/dotnet, copied from the local .NET install          3 layers
#   aspnet-10.0        + Microsoft.AspNetCore.App                                    4 layers
#   multiarch-10.0     OCI index: linux/<host arch> = runtime-deps-10.0, plus a tiny placeholder
#                      image for the other architecture (amd64 <-> arm64/v8), only for platform
#                      selection tests — it cannot run anything.
#
# All four are written to ONE OCI image layout directory, each named by the
# org.opencontainers.image.ref.name annotation in index.json:
#   ${CONTAINERS_SDK_TEST_IMAGES:-/var/cache/containers-sdk-tests/base-images}
#
# Cached: the layout holds a key (this script's hash, the .NET runtime version, the debootstrap
# mirror/suite/packages, tool versions, the timestamp). When the key matches, the script exits in
# well under a second. Otherwise it builds into a temporary sibling directory, checks the result
# (skopeo inspect, and `dotnet --list-runtimes` run inside the unpacked aspnet image with chroot)
# and only then renames it into place, so an interrupted run never leaves a half-written layout.
# The debootstrap root filesystem is cached separately (a tarball next to the layout), so a new
# .NET runtime or an edit of this script does not download the Debian packages again.
#
# Usage: sudo bash eng/base-images.sh [--force]
# Environment:
#   CONTAINERS_SDK_TEST_IMAGES  layout directory (default above)
#   SOURCE_DATE_EPOCH           creation time written into configs and history (default: fixed)
#   DOTNET_ROOT                 .NET install to copy runtimes from (default: from `dotnet` on PATH)
# Needs root (debootstrap, chroot) and: debootstrap umoci skopeo jq tar gzip (eng/install-deps.sh).
set -euo pipefail

readonly SUITE=bookworm
readonly INCLUDE_PACKAGES=(libicu72 libssl3 ca-certificates tzdata zlib1g)
readonly APP_UID=1654
readonly DOTNET_CHANNEL=10.0
readonly IMAGE_PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# 2025-05-20T00:00:00Z, the date of the Debian snapshot this machine's apt sources name.
readonly DEFAULT_SOURCE_DATE_EPOCH=1747699200

layout_dir="${CONTAINERS_SDK_TEST_IMAGES:-/var/cache/containers-sdk-tests/base-images}"
layout_dir="${layout_dir%/}"
force=false
if [[ "${1:-}" == "--force" ]]; then force=true; fi

log() { printf 'base-images: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ "$(id -u)" -eq 0 ]] || die "must run as root (debootstrap and chroot need it): sudo bash $0"
for tool in debootstrap umoci skopeo jq tar gzip sha256sum chroot flock; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found; run: sudo bash eng/install-deps.sh"
done

# ---------------------------------------------------------------------------------------------
# Inputs of the cache key
# ---------------------------------------------------------------------------------------------

# The mirror this machine's apt already uses (deb822 sources first, then the one-line format),
# for the first entry that serves the plain suite (not -security/-updates).
find_apt_mirror() {
  local file
  for file in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$file" ]] || continue
    # deb822: stanzas separated by blank lines; want Types: deb and Suites containing the suite.
    awk -v suite="$SUITE" '
      BEGIN { RS = ""; FS = "\n" }
      {
        uris = ""; suites = ""; types = ""
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^[[:space:]]*#/) continue
          if ($i ~ /^URIs:/)   { uris = $i;   sub(/^URIs:[[:space:]]*/, "", uris) }
          if ($i ~ /^Suites:/) { suites = " " $i " "; sub(/^ Suites:/, "", suites) }
          if ($i ~ /^Types:/)  { types = " " $i " " }
        }
        if (types ~ / deb / && suites ~ (" " suite " ") && uris != "") { split(uris, u, /[[:space:]]+/); print u[1]; exit }
      }' "$file"
  done | head -n 1 | grep . && return 0
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$file" ]] || continue
    awk -v suite="$SUITE" '
      $1 == "deb" {
        i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
        if ($(i + 1) == suite) { print $i; exit }
      }' "$file"
  done | head -n 1 | grep . && return 0
  return 1
}

mirror="$(find_apt_mirror)" || die "no apt source for '$SUITE' found in /etc/apt/sources.list{,.d/}; debootstrap needs a Debian mirror"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[[ -f "$keyring" ]] || die "$keyring missing (apt-get install debian-archive-keyring)"

# The .NET install to copy runtimes from.
if [[ -n "${DOTNET_ROOT:-}" && -x "${DOTNET_ROOT}/dotnet" ]]; then
  dotnet_root="$(realpath "$DOTNET_ROOT")"
else
  dotnet_on_path="$(command -v dotnet)" || die "'dotnet' not found on PATH and DOTNET_ROOT not set"
  dotnet_root="$(dirname "$(realpath "$dotnet_on_path")")"
fi
runtimes="$("$dotnet_root/dotnet" --list-runtimes)" || die "'$dotnet_root/dotnet --list-runtimes' failed"

# The newest $DOTNET_CHANNEL.x version that both Microsoft.NETCore.App and Microsoft.AspNetCore.App have.
runtime_versions() { awk -v name="$1" -v prefix="$DOTNET_CHANNEL." '$1 == name && index($2, prefix) == 1 { print $2 }' <<<"$runtimes"; }
runtime_version="$(comm -12 <(runtime_versions Microsoft.NETCore.App | sort) <(runtime_versions Microsoft.AspNetCore.App | sort) | sort -V | tail -n 1)"
[[ -n "$runtime_version" ]] || die "no Microsoft.NETCore.App and Microsoft.AspNetCore.App $DOTNET_CHANNEL.x pair in $dotnet_root (dotnet --list-runtimes):
$runtimes"
[[ -d "$dotnet_root/host/fxr/$runtime_version" ]] || die "$dotnet_root/host/fxr/$runtime_version missing"

source_date_epoch="${SOURCE_DATE_EPOCH:-$DEFAULT_SOURCE_DATE_EPOCH}"
created="$(date -u -d "@$source_date_epoch" +%Y-%m-%dT%H:%M:%SZ)"

tool_versions="$(dpkg-query -W -f='${Package}=${Version}\n' debootstrap umoci 2>/dev/null || true)"
minbase_key="$(printf '%s\n' "suite=$SUITE" "mirror=$mirror" "include=${INCLUDE_PACKAGES[*]}" "$tool_versions" | sha256sum | cut -c1-16)"
cache_key="$(
  {
    sha256sum <"${BASH_SOURCE[0]}"
    printf '%s\n' "minbase=$minbase_key" "runtime=$runtime_version" "created=$created" "$tool_versions"
  } | sha256sum | cut -c1-64
)"
readonly stamp_name=containers-sdk-base-images.key
readonly refs=(runtime-deps-10.0 runtime-10.0 aspnet-10.0 multiarch-10.0)

print_summary() {
  local dir="$1" ref digest media
  log "layout: $dir ($(du -sh "$dir" | cut -f1)), key ${cache_key:0:16}, .NET runtime $runtime_version"
  for ref in "${refs[@]}"; do
    read -r digest media < <(jq -r --arg ref "$ref" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $ref) | "\(.digest) \(.mediaType)"' "$dir/index.json")
    printf '  %-18s %s  %s\n' "$ref" "$digest" "${media##*/}" >&2
  done
}

parent_dir="$(dirname "$layout_dir")"
mkdir -p "$parent_dir"
# One build at a time; a second caller waits and then finds the fresh layout.
exec 9>"$layout_dir.lock"
flock 9

# Removes a work directory from an earlier or the current run. debootstrap mounts /proc and /sys
# inside its target; a killed run can leave those mounted, so unmount before deleting, and never
# let rm cross into another file system.
remove_work_dir() {
  local dir="$1" mount_point
  [[ -e "$dir" ]] || return 0
  while read -r mount_point; do
    [[ -n "$mount_point" ]] && umount -l "$mount_point" 2>/dev/null || true
  done < <(awk -v prefix="$dir/" 'index($2, prefix) == 1 { print $2 }' /proc/self/mounts | sort -r)
  rm -rf --one-file-system "$dir"
}

# Leftovers of a killed run (the lock says no other run is using them).
for stale in "$layout_dir".tmp.* "$layout_dir".old.*; do remove_work_dir "$stale"; done

if [[ "$force" == false && -f "$layout_dir/$stamp_name" && "$(cat "$layout_dir/$stamp_name")" == "$cache_key" ]]; then
  log "up to date (key ${cache_key:0:16})"
  print_summary "$layout_dir"
  exit 0
fi

# ---------------------------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------------------------


started_at=$SECONDS
work_dir="$layout_dir.tmp.$$"
mkdir -p "$work_dir"
trap 'remove_work_dir "$work_dir"' EXIT
new_layout="$work_dir/layout"
bundle="$work_dir/bundle"
rootfs="$bundle/rootfs"

# --- the debootstrap minbase, cached as a tarball --------------------------------------------
minbase_tar="$parent_dir/minbase-$SUITE-$minbase_key.tar"
if [[ ! -f "$minbase_tar" ]]; then
  log "debootstrap --variant=minbase $SUITE from $mirror (+ ${INCLUDE_PACKAGES[*]}); takes a few minutes"
  minbase_dir="$work_dir/minbase"
  include_list="$(IFS=,; echo "${INCLUDE_PACKAGES[*]}")"
  if ! debootstrap --variant=minbase --include="$include_list" --keyring="$keyring" \
      "$SUITE" "$minbase_dir" "$mirror" >"$work_dir/debootstrap.log" 2>&1; then
    tail -n 30 "$work_dir/debootstrap.log" >&2
    [[ -f "$minbase_dir/debootstrap/debootstrap.log" ]] && tail -n 30 "$minbase_dir/debootstrap/debootstrap.log" >&2
    die "debootstrap failed (log above)"
  fi
  # Nothing of the build host belongs in an image: debootstrap copies resolv.conf and hostname,
  # and apt leaves its package lists and caches; /dev is populated by the container runtime.
  rm -rf "$minbase_dir"/var/cache/apt/archives/*.deb "$minbase_dir"/var/cache/apt/*.bin \
    "$minbase_dir"/var/lib/apt/lists/* "$minbase_dir"/var/log/* "$minbase_dir"/tmp/* \
    "$minbase_dir"/dev/* "$minbase_dir"/debootstrap
  : >"$minbase_dir/etc/resolv.conf"
  : >"$minbase_dir/etc/hostname"
  tar --numeric-owner --xattrs --acls -C "$minbase_dir" -cf "$minbase_tar.tmp" .
  mv "$minbase_tar.tmp" "$minbase_tar"
  remove_work_dir "$minbase_dir"
  # Older minbase tarballs (other mirror/package list) are no longer needed.
  find "$parent_dir" -maxdepth 1 -name "minbase-*.tar" ! -name "$(basename "$minbase_tar")" -delete
  log "minbase ready after $((SECONDS - started_at)) s"
else
  log "reusing $minbase_tar"
fi

# umoci names an image "<layout>:<tag>".
image() { printf '%s:%s' "$new_layout" "$1"; }
repack() {  # repack <ref> <created_by>: the bundle's changes since the last (re)pack become one layer of <ref>
  umoci repack --refresh-bundle --history.created "$created" --history.created_by "$2" --image "$(image "$1")" "$bundle"
}

umoci init --layout "$new_layout"
umoci new --image "$(image runtime-deps-10.0)"
umoci unpack --image "$(image runtime-deps-10.0)" "$bundle" >/dev/null

# Layer 1: the Debian minbase.
tar --numeric-owner --xattrs --acls -C "$rootfs" -xf "$minbase_tar"
repack runtime-deps-10.0 "debootstrap --variant=minbase --include=$(IFS=,; echo "${INCLUDE_PACKAGES[*]}") $SUITE"

# Layer 2: the non-root user, as the official images create it.
chroot "$rootfs" groupadd --gid="$APP_UID" app
chroot "$rootfs" useradd --no-log-init --uid="$APP_UID" --gid="$APP_UID" --create-home --home-dir /home/app app
rm -f "$rootfs"/etc/passwd- "$rootfs"/etc/group- "$rootfs"/etc/shadow- "$rootfs"/etc/gshadow-
repack runtime-deps-10.0 "groupadd --gid=$APP_UID app && useradd --no-log-init --uid=$APP_UID --gid=$APP_UID --create-home app"

# Layer 3: the .NET runtime, laid out as in the official image.
dotnet_dir="$rootfs/usr/share/dotnet"
mkdir -p "$dotnet_dir/host/fxr" "$dotnet_dir/shared/Microsoft.NETCore.App"
cp -a "$dotnet_root/dotnet" "$dotnet_dir/dotnet"
for notice in LICENSE.txt ThirdPartyNotices.txt; do
  if [[ -f "$dotnet_root/$notice" ]]; then cp -a "$dotnet_root/$notice" "$dotnet_dir/"; fi
done
cp -a "$dotnet_root/host/fxr/$runtime_version" "$dotnet_dir/host/fxr/"
cp -a "$dotnet_root/shared/Microsoft.NETCore.App/$runtime_version" "$dotnet_dir/shared/Microsoft.NETCore.App/"
chown -R 0:0 "$dotnet_dir"
ln -s /usr/share/dotnet/dotnet "$rootfs/usr/bin/dotnet"
repack runtime-10.0 "copy Microsoft.NETCore.App $runtime_version from the build machine's .NET install to /usr/share/dotnet"

# Layer 4: ASP.NET Core.
mkdir -p "$dotnet_dir/shared/Microsoft.AspNetCore.App"
cp -a "$dotnet_root/shared/Microsoft.AspNetCore.App/$runtime_version" "$dotnet_dir/shared/Microsoft.AspNetCore.App/"
chown -R 0:0 "$dotnet_dir/shared/Microsoft.AspNetCore.App"
repack aspnet-10.0 "copy Microsoft.AspNetCore.App $runtime_version from the build machine's .NET install to /usr/share/dotnet"

# Configs, as the official images: environment only; no user (root), no entrypoint, no cmd.
base_env=(--config.env "PATH=$IMAGE_PATH" --config.env "APP_UID=$APP_UID"
  --config.env "ASPNETCORE_HTTP_PORTS=8080" --config.env "DOTNET_RUNNING_IN_CONTAINER=true")
configure() {  # configure <ref> [umoci config options]
  local ref="$1"; shift
  umoci config --image "$(image "$ref")" --created "$created" \
    --history.created "$created" --history.created_by "ENV (${ref})" "$@"
}
configure runtime-deps-10.0 "${base_env[@]}"
configure runtime-10.0 "${base_env[@]}" --config.env "DOTNET_VERSION=$runtime_version"
configure aspnet-10.0 "${base_env[@]}" --config.env "DOTNET_VERSION=$runtime_version" --config.env "ASPNET_VERSION=$runtime_version"
remove_work_dir "$bundle"
umoci gc --layout "$new_layout"

# --- multiarch-10.0: an OCI index (umoci cannot write one, so the blobs are written here) ------
put_blob() {  # put_blob <file>: moves the file into blobs/sha256, prints "<digest> <size>"
  local file="$1" hex size
  hex="$(sha256sum "$file" | cut -d' ' -f1)"
  size="$(stat -c %s "$file")"
  mv "$file" "$new_layout/blobs/sha256/$hex"
  printf 'sha256:%s %s\n' "$hex" "$size"
}

host_arch="$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "runtime-deps-10.0") | .digest' "$new_layout/index.json" \
  | sed 's/^sha256://' | { read -r hex; jq -r .config.digest "$new_layout/blobs/sha256/$hex"; } \
  | sed 's/^sha256://' | { read -r hex; jq -r .architecture "$new_layout/blobs/sha256/$hex"; })"
case "$host_arch" in
  amd64) other_arch=arm64; other_variant=v8; host_variant="" ;;
  arm64) other_arch=amd64; other_variant=""; host_variant=v8 ;;
  *) die "unsupported host architecture '$host_arch' (amd64 and arm64 are)" ;;
esac

# The placeholder: one tiny layer holding a note, and a config that says $other_arch.
placeholder_dir="$work_dir/placeholder"
mkdir -p "$placeholder_dir"
printf 'Placeholder %s image made by eng/base-images.sh for platform-selection tests; it contains no runnable files.\n' \
  "$other_arch" >"$placeholder_dir/README.containers-sdk-placeholder"
tar --sort=name --mtime="@$source_date_epoch" --owner=0 --group=0 --numeric-owner --mode=go-w,a+r \
  -C "$placeholder_dir" -cf "$work_dir/placeholder.tar" README.containers-sdk-placeholder
diff_id="sha256:$(sha256sum "$work_dir/placeholder.tar" | cut -d' ' -f1)"
gzip -n -9 -c "$work_dir/placeholder.tar" >"$work_dir/placeholder.tar.gz"
read -r layer_digest layer_size < <(put_blob "$work_dir/placeholder.tar.gz")
jq -cn --arg created "$created" --arg arch "$other_arch" --arg variant "$other_variant" --arg diff "$diff_id" --arg path "PATH=$IMAGE_PATH" '
  { created: $created, architecture: $arch }
  + (if $variant == "" then {} else { variant: $variant } end)
  + { os: "linux", config: { Env: [$path] }, rootfs: { type: "layers", diff_ids: [$diff] },
      history: [ { created: $created, created_by: "placeholder for platform-selection tests" } ] }' \
  | tr -d '\n' >"$work_dir/placeholder-config.json"
read -r config_digest config_size < <(put_blob "$work_dir/placeholder-config.json")
jq -cn --arg cd "$config_digest" --argjson cs "$config_size" --arg ld "$layer_digest" --argjson ls "$layer_size" '
  { schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs },
    layers: [ { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $ld, size: $ls } ] }' \
  | tr -d '\n' >"$work_dir/placeholder-manifest.json"
read -r placeholder_digest placeholder_size < <(put_blob "$work_dir/placeholder-manifest.json")

jq -c --arg pd "$placeholder_digest" --argjson ps "$placeholder_size" \
  --arg ha "$host_arch" --arg hv "$host_variant" --arg oa "$other_arch" --arg ov "$other_variant" '
  def platform($a; $v): { architecture: $a, os: "linux" } + (if $v == "" then {} else { variant: $v } end);
  (.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "runtime-deps-10.0")) as $host
  | [ { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $host.digest, size: $host.size, platform: platform($ha; $hv) },
      { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $pd, size: $ps, platform: platform($oa; $ov) } ]
  | sort_by(.platform.architecture)
  | { schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: . }' \
  "$new_layout/index.json" | tr -d '\n' >"$work_dir/multiarch-index.json"
read -r index_digest index_size < <(put_blob "$work_dir/multiarch-index.json")
jq -c --arg d "$index_digest" --argjson s "$index_size" '
  .manifests += [ { mediaType: "application/vnd.oci.image.index.v1+json", digest: $d, size: $s,
                    annotations: { "org.opencontainers.image.ref.name": "multiarch-10.0" } } ]' \
  "$new_layout/index.json" >"$new_layout/index.json.new"
mv "$new_layout/index.json.new" "$new_layout/index.json"

# ---------------------------------------------------------------------------------------------
# Check with independent tools before publishing the layout
# ---------------------------------------------------------------------------------------------
for ref in runtime-deps-10.0 runtime-10.0 aspnet-10.0; do
  skopeo inspect "oci:$new_layout:$ref" >"$work_dir/inspect-$ref.json" || die "skopeo inspect oci:...:$ref failed"
done
skopeo inspect --raw "oci:$new_layout:multiarch-10.0" | jq -e '.manifests | length == 2' >/dev/null \
  || die "multiarch-10.0 is not a two-entry index"
jq -e --arg v "$runtime_version" '.Env | index("DOTNET_VERSION=\($v)") != null' "$work_dir/inspect-runtime-10.0.json" >/dev/null \
  || die "runtime-10.0 lacks DOTNET_VERSION"

umoci unpack --image "$(image aspnet-10.0)" "$work_dir/check" >/dev/null
listed="$(chroot "$work_dir/check/rootfs" /usr/bin/dotnet --list-runtimes)" \
  || die "/usr/bin/dotnet --list-runtimes failed inside the unpacked aspnet-10.0 image"
grep -q "^Microsoft.NETCore.App $runtime_version " <<<"$listed" && grep -q "^Microsoft.AspNetCore.App $runtime_version " <<<"$listed" \
  || die "dotnet inside aspnet-10.0 does not list both runtimes:
$listed"
[[ "$(chroot "$work_dir/check/rootfs" id -u app)" == "$APP_UID" ]] || die "user app does not have uid $APP_UID"
remove_work_dir "$work_dir/check"

printf '%s\n' "$cache_key" >"$new_layout/$stamp_name"
# umoci writes blobs 0600; tests running as a normal user must be able to read the layout.
chmod -R a+rX "$new_layout"

# Publish: move the old layout aside, rename the new one in, then delete the old one.
if [[ -e "$layout_dir" ]]; then mv "$layout_dir" "$layout_dir.old.$$"; fi
mv "$new_layout" "$layout_dir"
remove_work_dir "$layout_dir.old.$$"
remove_work_dir "$work_dir"
trap - EXIT

log "built in $((SECONDS - started_at)) s; inside aspnet-10.0, dotnet --list-runtimes says:"
sed 's/^/    /' <<<"$listed" >&2
print_summary "$layout_dir"
