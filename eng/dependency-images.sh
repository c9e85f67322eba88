#!/usr/bin/env bash
# Builds the dependency images for app-graph tests (PostgreSQL, Redis) from Debian bookworm
# packages — nothing is pulled from a registry.
#
#   postgres-15  debootstrap --variant=minbase bookworm, user postgres (uid/gid 999), then
#                apt-get install --no-install-recommends postgresql-15 (no cluster created),
#                locale en_US.UTF-8, and an entrypoint with the official postgres image's
#                interface (eng/dependency-images/postgres-entrypoint.sh)            4 layers
#   redis-7      the same minbase layer, user redis (uid/gid 999), then
#                apt-get install --no-install-recommends redis-server (7.0), and /data  4 layers
#
# Both run as their own non-root user (config User, and the directories they write are owned by
# that user in the layers), behave like the official images from outside (env, ports, stop
# signal, readiness log lines), and are written to ONE OCI image layout directory, each named by
# the org.opencontainers.image.ref.name annotation in index.json:
#   ${CONTAINERS_SDK_TEST_DEPENDENCY_IMAGES:-/var/cache/containers-sdk-tests/dependency-images}
#
# Cached like eng/base-images.sh: the layout holds a key (this script, the entrypoint, the
# debootstrap mirror/suite, the package lists and uids, tool versions, the timestamp); when it
# matches the script exits at once. Otherwise it builds into a temporary sibling directory, checks
# the result (skopeo inspect, and each server started from the unpacked image, chrooted as its
# user, on a Unix socket only) and only then renames it into place. The debootstrap root file
# system is cached as a tarball next to the layout. Package installs and checks run chrooted in
# private mount and PID namespaces, so a killed run leaves no mounts and no processes behind.
#
# Usage: sudo bash eng/dependency-images.sh [--force]
# Environment:
#   CONTAINERS_SDK_TEST_DEPENDENCY_IMAGES  layout directory (default above)
#   SOURCE_DATE_EPOCH                      creation time of configs and history, and the latest file
#                                          time in the layers (default: fixed)
# Needs root (debootstrap, chroot, unshare) and: debootstrap umoci skopeo jq tar gzip
# (eng/install-deps.sh).
# Scripts for bash -c, dpkg-query formats and SQL are single-quoted on purpose: they expand later.
# shellcheck disable=SC2016
set -euo pipefail

readonly SUITE=bookworm
readonly POSTGRES_MAJOR=15
readonly POSTGRES_UID=999
readonly REDIS_UID=999
readonly IMAGE_PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
readonly POSTGRES_PATH="/usr/lib/postgresql/$POSTGRES_MAJOR/bin:$IMAGE_PATH"
# 2025-05-20T00:00:00Z, the date of the Debian snapshot this machine's apt sources name (as base-images.sh).
readonly DEFAULT_SOURCE_DATE_EPOCH=1747699200

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly postgres_entrypoint="$script_dir/dependency-images/postgres-entrypoint.sh"

layout_dir="${CONTAINERS_SDK_TEST_DEPENDENCY_IMAGES:-/var/cache/containers-sdk-tests/dependency-images}"
layout_dir="${layout_dir%/}"
force=false
if [[ "${1:-}" == "--force" ]]; then force=true; fi

log() { printf 'dependency-images: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ "$(id -u)" -eq 0 ]] || die "must run as root (debootstrap, chroot and unshare need it): sudo bash $0"
for tool in debootstrap umoci skopeo jq tar gzip sha256sum chroot unshare flock; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found; run: sudo bash eng/install-deps.sh"
done
[[ -f "$postgres_entrypoint" ]] || die "$postgres_entrypoint missing (it is part of the repository)"

# ---------------------------------------------------------------------------------------------
# Inputs of the cache key
# ---------------------------------------------------------------------------------------------

# The mirror this machine's apt already uses (deb822 sources first, then the one-line format),
# for the first entry that serves the plain suite. The same lookup as eng/base-images.sh; copied
# rather than shared because base-images.sh hashes its own file into its cache key.
find_apt_mirror() {
  local file
  for file in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$file" ]] || continue
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

source_date_epoch="${SOURCE_DATE_EPOCH:-$DEFAULT_SOURCE_DATE_EPOCH}"
[[ "$source_date_epoch" =~ ^[0-9]+$ ]] || die "SOURCE_DATE_EPOCH='$source_date_epoch' is not a number of seconds"
created="$(date -u -d "@$source_date_epoch" +%Y-%m-%dT%H:%M:%SZ)"

tool_versions="$(dpkg-query -W -f='${Package}=${Version}\n' debootstrap umoci 2>/dev/null || true)"
minbase_key="$(printf '%s\n' "suite=$SUITE" "mirror=$mirror" "epoch=$source_date_epoch" "$tool_versions" | sha256sum | cut -c1-16)"
cache_key="$(
  {
    sha256sum <"${BASH_SOURCE[0]}"
    sha256sum <"$postgres_entrypoint"
    printf '%s\n' "minbase=$minbase_key" "postgres=$POSTGRES_MAJOR:$POSTGRES_UID" "redis=$REDIS_UID" "created=$created" "$tool_versions"
  } | sha256sum | cut -c1-64
)"
readonly stamp_name=containers-sdk-dependency-images.key
readonly refs=(postgres-15 redis-7)

print_summary() {
  local dir="$1" ref digest
  log "layout: $dir ($(du -sh "$dir" | cut -f1)), key ${cache_key:0:16}"
  for ref in "${refs[@]}"; do
    digest="$(jq -r --arg ref "$ref" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $ref) | .digest' "$dir/index.json")"
    printf '  %-12s %s\n' "$ref" "$digest" >&2
  done
}

parent_dir="$(dirname "$layout_dir")"
mkdir -p "$parent_dir"
# One build at a time; a second caller waits and then finds the fresh layout.
exec 9>"$layout_dir.lock"
flock 9

# Removes a work directory from an earlier or the current run. A process still chrooted into it
# (a server that a check started, when this run was killed) is killed first, by its pid. debootstrap
# mounts /proc and /sys inside its target (here in a private mount namespace, which goes away with
# it, but unmount anyway); never let rm cross into another file system.
remove_work_dir() {
  local dir="$1" mount_point proc root
  [[ -e "$dir" ]] || return 0
  for proc in /proc/[0-9]*; do
    root="$(readlink "$proc/root" 2>/dev/null)" || continue
    if [[ "$root" == "$dir" || "$root" == "$dir"/* ]]; then kill -KILL "${proc#/proc/}" 2>/dev/null || true; fi
  done
  while read -r mount_point; do
    if [[ -n "$mount_point" ]]; then umount -l "$mount_point" 2>/dev/null || true; fi
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
# Helpers
# ---------------------------------------------------------------------------------------------

# in_namespaces [--net] <rootfs> <bash script> [args...]: runs the script with bash on the host,
# in private mount and PID namespaces in which <rootfs>/proc and <rootfs>/dev are mounted; with
# --net also in a network namespace of its own (only loopback, up). In the script "$root" is the
# rootfs and "$@" the args. When the script ends, or this run is killed, the namespaces go away
# with every mount and every process started in them (a daemon a postinst started, a server).
in_namespaces() {
  local namespaces=(--mount --pid) setup='mount -t proc proc "$root/proc"; mount --rbind /dev "$root/dev"'
  if [[ "$1" == --net ]]; then namespaces+=(--net); setup+='; ip link set lo up'; shift; fi
  local root="$1" script="$2"; shift 2
  unshare "${namespaces[@]}" --fork --kill-child --propagation private -- \
    /bin/bash -euo pipefail -c 'root="$1"; shift; '"$setup"'
'"$script" bash "$root" "$@"
}

# in_chroot <rootfs> <command...>: runs the command chrooted as root, with a clean environment.
in_chroot() {
  local root="$1"; shift
  in_namespaces "$root" 'exec chroot "$root" /usr/bin/env -i "$@"' \
    PATH="$IMAGE_PATH" LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive SOURCE_DATE_EPOCH="$source_date_epoch" \
    ${http_proxy:+http_proxy="$http_proxy"} ${https_proxy:+https_proxy="$https_proxy"} ${no_proxy:+no_proxy="$no_proxy"} \
    "$@"
}

# No file in a layer is newer than SOURCE_DATE_EPOCH: what debootstrap, useradd and dpkg wrote
# carries the fixed time instead of the build's (files from packages keep their older times).
clamp_times() {
  find "$1" -xdev -newermt "@$source_date_epoch" -exec touch --no-dereference --date="@$source_date_epoch" {} +
}

# Nothing of the build host or of apt's work belongs in an image: debootstrap copies resolv.conf
# and hostname, apt leaves package lists, caches and logs; /dev is populated by the runtime.
# Directories under /var/log stay (packages own them); the files in them go.
clean_rootfs() {
  local root="${1:?clean_rootfs needs a root file system}"
  [[ "$root" != / && -d "$root/etc" ]] || die "clean_rootfs: '$root' is not a root file system"
  rm -rf "${root:?}"/var/cache/apt/archives/*.deb "${root:?}"/var/cache/apt/archives/partial/* "${root:?}"/var/cache/apt/*.bin \
    "${root:?}"/var/lib/apt/lists/* "${root:?}"/var/cache/debconf/*-old "${root:?}"/var/lib/dpkg/*-old \
    "${root:?}"/tmp/* "${root:?}"/var/tmp/* "${root:?}"/dev/* "${root:?}"/debootstrap \
    "${root:?}"/etc/passwd- "${root:?}"/etc/group- "${root:?}"/etc/shadow- "${root:?}"/etc/gshadow- "${root:?}"/usr/sbin/policy-rc.d \
    "${root:?}"/var/cache/apt/archives/lock "${root:?}"/run/adduser
  find "$root/var/log" -xdev -type f -delete
  rm -f "$root/etc/resolv.conf" "$root/etc/hostname"
  : >"$root/etc/resolv.conf"
  : >"$root/etc/hostname"
  chmod 0644 "$root/etc/resolv.conf" "$root/etc/hostname"
}

# apt_install <rootfs> <log> <sh commands>: runs the commands chrooted, with the host's DNS and a
# policy-rc.d that keeps packages from starting their services; prints the log's tail on failure.
apt_install() {
  local root="$1" log_file="$2" commands="$3"
  cat /etc/resolv.conf >"$root/etc/resolv.conf"
  printf '#!/bin/sh\n# no services are started while the image is built\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 0755 "$root/usr/sbin/policy-rc.d"
  if ! in_chroot "$root" /bin/sh -euxc "$commands" >"$log_file" 2>&1; then
    tail -n 40 "$log_file" >&2
    die "installing packages failed (log above, full log: $log_file)"
  fi
  clean_rootfs "$root"
}

# ---------------------------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------------------------

started_at=$SECONDS
work_dir="$layout_dir.tmp.$$"
mkdir -p "$work_dir"
trap 'remove_work_dir "$work_dir"' EXIT
new_layout="$work_dir/layout"

# --- the debootstrap minbase, cached as a tarball --------------------------------------------
# Its own name: base-images.sh deletes minbase-*.tar files other than its own.
minbase_tar="$parent_dir/dependency-minbase-$SUITE-$minbase_key.tar"
if [[ ! -f "$minbase_tar" ]]; then
  log "debootstrap --variant=minbase $SUITE from $mirror; takes a few minutes"
  minbase_dir="$work_dir/minbase"
  if ! unshare --mount --propagation private -- debootstrap --variant=minbase --keyring="$keyring" \
      "$SUITE" "$minbase_dir" "$mirror" >"$work_dir/debootstrap.log" 2>&1; then
    tail -n 30 "$work_dir/debootstrap.log" >&2
    if [[ -f "$minbase_dir/debootstrap/debootstrap.log" ]]; then tail -n 30 "$minbase_dir/debootstrap/debootstrap.log" >&2; fi
    die "debootstrap failed (log above)"
  fi
  clean_rootfs "$minbase_dir"
  clamp_times "$minbase_dir"
  tar --numeric-owner --xattrs --acls -C "$minbase_dir" -cf "$minbase_tar.tmp" .
  mv "$minbase_tar.tmp" "$minbase_tar"
  remove_work_dir "$minbase_dir"
  find "$parent_dir" -maxdepth 1 -name "dependency-minbase-*.tar" ! -name "$(basename "$minbase_tar")" -delete
  log "minbase ready after $((SECONDS - started_at)) s"
else
  log "reusing $minbase_tar"
fi

# umoci names an image "<layout>:<tag>".
image() { printf '%s:%s' "$new_layout" "$1"; }
repack() {  # repack <ref> <bundle> <created_by>: the bundle's changes since the last (re)pack become one layer of <ref>
  clamp_times "$2/rootfs"
  umoci repack --refresh-bundle --history.created "$created" --history.created_by "$3" --image "$(image "$1")" "$2"
}

# Layer 1, shared by both images (one blob): the Debian minbase. Kept under a temporary name until
# both images are built on it.
umoci init --layout "$new_layout"
umoci new --image "$(image minbase)"
umoci unpack --image "$(image minbase)" "$work_dir/minbase-bundle" >/dev/null
tar --numeric-owner --xattrs --acls -C "$work_dir/minbase-bundle/rootfs" -xf "$minbase_tar"
repack minbase "$work_dir/minbase-bundle" "debootstrap --variant=minbase $SUITE"
remove_work_dir "$work_dir/minbase-bundle"

# add_user <rootfs> <name> <uid> <home> <shell>: a system user and group with a fixed id, created
# before the package's postinst would create one with the next free id (as the official images do).
add_user() {
  in_chroot "$1" groupadd --system --gid "$3" "$2"
  in_chroot "$1" useradd --system --no-log-init --gid "$3" --uid "$3" --home-dir "$4" --no-create-home --shell "$5" "$2"
  rm -f "$1"/etc/passwd- "$1"/etc/group- "$1"/etc/shadow- "$1"/etc/gshadow-
}

# The upstream part of a Debian version: 5:7.0.15-1~deb12u7 -> 7.0.15.
upstream_version() { sed -E 's/^[0-9]+://; s/-[^-]*$//; s/[+~].*$//' <<<"$1"; }

# --- postgres-15 -------------------------------------------------------------------------------
log "postgres-15: apt-get install postgresql-$POSTGRES_MAJOR"
bundle="$work_dir/postgres-bundle"
rootfs="$bundle/rootfs"
umoci unpack --image "$(image minbase)" "$bundle" >/dev/null

add_user "$rootfs" postgres "$POSTGRES_UID" /var/lib/postgresql /bin/bash
repack postgres-15 "$bundle" "groupadd --system --gid=$POSTGRES_UID postgres && useradd --system --gid=$POSTGRES_UID --uid=$POSTGRES_UID --home-dir=/var/lib/postgresql --shell=/bin/bash postgres"

# postgresql-common first, so that installing the server creates no cluster; a locale for initdb
# as in the official image; listen_addresses = '*' in the sample that initdb copies.
postgres_install="apt-get update
apt-get install -y --no-install-recommends postgresql-common
sed -ri 's/^#?(create_main_cluster) .*\$/\\1 = false/' /etc/postgresql-common/createcluster.conf
grep -qx 'create_main_cluster = false' /etc/postgresql-common/createcluster.conf
apt-get install -y --no-install-recommends postgresql-$POSTGRES_MAJOR
localedef -i en_US -c -f UTF-8 -A /usr/share/locale/locale.alias en_US.UTF-8
sed -ri \"s!^#?(listen_addresses)[[:space:]]*=[[:space:]]*[^[:space:]]+.*!\\1 = '*'!\" /usr/share/postgresql/$POSTGRES_MAJOR/postgresql.conf.sample
grep -q \"^listen_addresses = '\\*'\" /usr/share/postgresql/$POSTGRES_MAJOR/postgresql.conf.sample"
apt_install "$rootfs" "$work_dir/apt-postgres.log" "$postgres_install"
[[ ! -e "$rootfs/etc/postgresql/$POSTGRES_MAJOR" && ! -e "$rootfs/var/lib/postgresql/$POSTGRES_MAJOR" ]] \
  || die "installing postgresql-$POSTGRES_MAJOR created a cluster although create_main_cluster = false"
[[ "$(in_chroot "$rootfs" id -u postgres)" == "$POSTGRES_UID" ]] || die "the package changed user postgres's uid"
# ssl-cert's postinst makes a snakeoil key pair; a private key has no place in a shared image
# (initdb does not configure SSL, so nothing refers to them).
rm -f "$rootfs/etc/ssl/private/ssl-cert-snakeoil.key" "$rootfs/etc/ssl/certs/ssl-cert-snakeoil.pem"
find "$rootfs/etc/ssl/certs" -type l -lname "*ssl-cert-snakeoil.pem" -delete
postgres_version="$(in_chroot "$rootfs" dpkg-query -W -f='${Version}' "postgresql-$POSTGRES_MAJOR")"
repack postgres-15 "$bundle" "apt-get install --no-install-recommends postgresql-common (create_main_cluster = false) postgresql-$POSTGRES_MAJOR=$postgres_version; localedef en_US.UTF-8; listen_addresses = '*' in postgresql.conf.sample"

install -m 0755 -o 0 -g 0 "$postgres_entrypoint" "$rootfs/usr/local/bin/docker-entrypoint.sh"
install -d -m 0755 -o 0 -g 0 "$rootfs/docker-entrypoint-initdb.d"
install -d -m 0755 -o "$POSTGRES_UID" -g "$POSTGRES_UID" "$rootfs/var/lib/postgresql"
install -d -m 0700 -o "$POSTGRES_UID" -g "$POSTGRES_UID" "$rootfs/var/lib/postgresql/data"
install -d -m 2775 -o "$POSTGRES_UID" -g "$POSTGRES_UID" "$rootfs/run/postgresql"
repack postgres-15 "$bundle" "COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh; mkdir /docker-entrypoint-initdb.d; install -d -o postgres -g postgres /var/lib/postgresql/data (0700) /var/run/postgresql (2775)"
remove_work_dir "$bundle"

postgres_upstream="$(upstream_version "$postgres_version")"
umoci config --image "$(image postgres-15)" --created "$created" \
  --history.created "$created" \
  --history.created_by "USER postgres; ENV PATH=$POSTGRES_PATH LANG=en_US.utf8 PG_MAJOR=$POSTGRES_MAJOR PG_VERSION=$postgres_version PGDATA=/var/lib/postgresql/data; ENTRYPOINT [\"/usr/local/bin/docker-entrypoint.sh\"]; CMD [\"postgres\"]; EXPOSE 5432/tcp; STOPSIGNAL SIGINT" \
  --config.user postgres \
  --config.env "PATH=$POSTGRES_PATH" --config.env "LANG=en_US.utf8" \
  --config.env "PG_MAJOR=$POSTGRES_MAJOR" --config.env "PG_VERSION=$postgres_version" \
  --config.env "PGDATA=/var/lib/postgresql/data" \
  --config.entrypoint /usr/local/bin/docker-entrypoint.sh --config.cmd postgres \
  --config.exposedports 5432/tcp --config.stopsignal SIGINT \
  --config.label "org.opencontainers.image.title=postgres-15" \
  --config.label "org.opencontainers.image.version=$postgres_upstream" \
  --config.label "org.opencontainers.image.description=PostgreSQL $postgres_upstream from Debian $SUITE's postgresql-$POSTGRES_MAJOR $postgres_version, runs as postgres ($POSTGRES_UID:$POSTGRES_UID); the official postgres image's environment interface (POSTGRES_PASSWORD, POSTGRES_USER, POSTGRES_DB, /docker-entrypoint-initdb.d). Made by eng/dependency-images.sh for tests."

# --- redis-7 -----------------------------------------------------------------------------------
log "redis-7: apt-get install redis-server"
bundle="$work_dir/redis-bundle"
rootfs="$bundle/rootfs"
umoci unpack --image "$(image minbase)" "$bundle" >/dev/null

add_user "$rootfs" redis "$REDIS_UID" /var/lib/redis /usr/sbin/nologin
repack redis-7 "$bundle" "groupadd --system --gid=$REDIS_UID redis && useradd --system --gid=$REDIS_UID --uid=$REDIS_UID --home-dir=/var/lib/redis --shell=/usr/sbin/nologin redis"

apt_install "$rootfs" "$work_dir/apt-redis.log" "apt-get update
apt-get install -y --no-install-recommends redis-server"
[[ "$(in_chroot "$rootfs" id -u redis)" == "$REDIS_UID" ]] || die "the package changed user redis's uid"
redis_version="$(in_chroot "$rootfs" dpkg-query -W -f='${Version}' redis-server)"
repack redis-7 "$bundle" "apt-get install --no-install-recommends redis-server=$redis_version"

install -d -m 0755 -o "$REDIS_UID" -g "$REDIS_UID" "$rootfs/data"
repack redis-7 "$bundle" "install -d -o redis -g redis /data"
remove_work_dir "$bundle"

redis_upstream="$(upstream_version "$redis_version")"
# Binds every IPv4 address and, where the kernel has IPv6, every IPv6 address ('-' makes it
# optional: Redis 7.0's own default, `bind * -::*`); no protected mode, since there is no password.
redis_cmd=(redis-server --bind '*' '-::*' --protected-mode no --dir /data)
redis_cmd_options=()
for argument in "${redis_cmd[@]}"; do redis_cmd_options+=(--config.cmd "$argument"); done
umoci config --image "$(image redis-7)" --created "$created" \
  --history.created "$created" \
  --history.created_by "USER redis; WORKDIR /data; ENV PATH=$IMAGE_PATH REDIS_VERSION=$redis_upstream; CMD $(printf '%s\n' "${redis_cmd[@]}" | jq -R . | jq -sc .); EXPOSE 6379/tcp" \
  --config.user redis --config.workingdir /data \
  --config.env "PATH=$IMAGE_PATH" --config.env "REDIS_VERSION=$redis_upstream" \
  "${redis_cmd_options[@]}" \
  --config.exposedports 6379/tcp \
  --config.label "org.opencontainers.image.title=redis-7" \
  --config.label "org.opencontainers.image.version=$redis_upstream" \
  --config.label "org.opencontainers.image.description=Redis $redis_upstream from Debian $SUITE's redis-server $redis_version, runs as redis ($REDIS_UID:$REDIS_UID), data in /data, no password. Made by eng/dependency-images.sh for tests."

umoci rm --image "$(image minbase)"
umoci gc --layout "$new_layout"

# ---------------------------------------------------------------------------------------------
# Check with independent tools, and run each server, before publishing the layout
# ---------------------------------------------------------------------------------------------
for ref in "${refs[@]}"; do
  skopeo inspect "oci:$new_layout:$ref" >"$work_dir/inspect-$ref.json" || die "skopeo inspect oci:...:$ref failed"
  skopeo inspect --config "oci:$new_layout:$ref" >"$work_dir/config-$ref.json" || die "skopeo inspect --config oci:...:$ref failed"
done
jq -e '.config.User == "postgres" and .config.StopSignal == "SIGINT" and (.config.ExposedPorts | has("5432/tcp"))
       and (.config.Env | index("PGDATA=/var/lib/postgresql/data") != null) and (.rootfs.diff_ids | length == 4)' \
  "$work_dir/config-postgres-15.json" >/dev/null || die "postgres-15's config is not as intended: $(jq -c .config "$work_dir/config-postgres-15.json")"
jq -e '.config.User == "redis" and (.config.ExposedPorts | has("6379/tcp")) and (.rootfs.diff_ids | length == 4)' \
  "$work_dir/config-redis-7.json" >/dev/null || die "redis-7's config is not as intended: $(jq -c .config "$work_dir/config-redis-7.json")"
[[ "$(jq -r '.Layers[0]' "$work_dir/inspect-postgres-15.json")" == "$(jq -r '.Layers[0]' "$work_dir/inspect-redis-7.json")" ]] \
  || die "postgres-15 and redis-7 do not share the minbase layer"

# Each image's own environment, entrypoint and command, as its user, chrooted into the unpacked
# image, in a network namespace of its own (nothing on the host's ports). The check script gets
# the uid, the number of environment entries, the entries, then the command.
run_check() {  # run_check <ref> <uid> <bash script>
  local ref="$1" uid="$2" script="$3" environment command
  mapfile -t environment < <(jq -r '.config.Env[]' "$work_dir/config-$ref.json")
  mapfile -t command < <(jq -r '(.config.Entrypoint // []) + (.config.Cmd // []) | .[]' "$work_dir/config-$ref.json")
  if ! in_namespaces --net "$work_dir/check-$ref/rootfs" '
    uid="$1" count="$2"; shift 2
    environment=("${@:1:$count}") command=("${@:$((count + 1))}")
    as_user() { chroot --userspec="$uid:$uid" "$root" /usr/bin/env -i "${environment[@]}" "$@"; }
    start_server() {  # start_server <log> <env and command...>: in the background; $server is its pid
      local log="$root$1"; shift
      # exec: $! is then the server itself (its pid in this PID namespace), not a subshell.
      (exec chroot --userspec="$uid:$uid" "$root" /usr/bin/env -i "${environment[@]}" "$@") >"$log" 2>&1 &
      server=$!
    }
    server_running() {  # not exited (a zombie is not running); /proc of this PID namespace is "$root/proc"
      [[ -r "$root/proc/$server/stat" && "$(sed "s/.*) //; s/ .*//" "$root/proc/$server/stat" 2>/dev/null)" != Z ]]
    }
    wait_for() {  # wait_for <log> <line> <count> <seconds>
      local tries=0
      until [[ "$(grep -c -- "$2" "$root$1")" -ge "$3" ]]; do
        server_running || { echo "the server exited:"; cat "$root$1"; exit 1; }
        tries=$((tries + 1))
        [[ "$tries" -lt $(($4 * 10)) ]] || { echo "no \"$2\" after $4 s:"; cat "$root$1"; exit 1; }
        sleep 0.1
      done
    }
    stop_server() {  # stop_server <signal> <log> <seconds>: the server must exit with 0 in time
      local status=0 watchdog
      kill -"$1" "$server"
      (sleep "$3"; kill -KILL "$server" 2>/dev/null) &
      watchdog=$!
      wait "$server" || status=$?
      kill "$watchdog" 2>/dev/null || true
      [[ "$status" -eq 0 ]] || { echo "the server exited with $status after SIG$1 (137: killed after $3 s):"; cat "$root$2"; exit 1; }
    }
    '"$script" "$uid" "${#environment[@]}" "${environment[@]}" "${command[@]}" >"$work_dir/check-$ref.log" 2>&1; then
    cat "$work_dir/check-$ref.log" >&2
    die "$ref failed its check (output above)"
  fi
}

# check_owner <rootfs> <path> <uid>: the layers gave <path> to <uid>.
check_owner() {
  [[ "$(stat -c %u:%g "$1$2")" == "$3:$3" ]] || die "$2 is owned by $(stat -c %u:%g "$1$2") in the image, not $3:$3"
}

log "checking postgres-15: initdb, password over TCP, SIGINT, as postgres in the unpacked image"
umoci unpack --image "$(image postgres-15)" "$work_dir/check-postgres-15" >/dev/null
for directory in /var/lib/postgresql /var/lib/postgresql/data /run/postgresql; do
  check_owner "$work_dir/check-postgres-15/rootfs" "$directory" "$POSTGRES_UID"
done
run_check postgres-15 "$POSTGRES_UID" '
  # Without a password the entrypoint refuses, as the official one does.
  if as_user "${command[@]}" >"$root/tmp/no-password.log" 2>&1; then echo "started without POSTGRES_PASSWORD"; exit 1; fi
  grep -q "superuser password is not specified" "$root/tmp/no-password.log" || { cat "$root/tmp/no-password.log"; exit 1; }
  start_server /tmp/postgres.log POSTGRES_PASSWORD=check-secret POSTGRES_USER=checker POSTGRES_DB=checkdb "${command[@]}"
  # The line comes twice: from the server that runs the init steps, then from the real one.
  wait_for /tmp/postgres.log "database system is ready to accept connections" 2 120
  query="SELECT current_user || '"' '"' || current_database() || '"' '"' || current_setting('"'listen_addresses'"')"
  answer="$(as_user PGPASSWORD=check-secret psql -h 127.0.0.1 -U checker -d checkdb -tAc "$query")"
  [[ "$answer" == "checker checkdb *" ]] || { echo "psql over TCP answered: $answer"; exit 1; }
  if as_user PGPASSWORD=wrong psql -h 127.0.0.1 -U checker -d checkdb -tAc "SELECT 1" >/dev/null 2>&1; then
    echo "psql over TCP connected with a wrong password"; exit 1
  fi
  stop_server INT /tmp/postgres.log 60
  grep -q "database system is shut down" "$root/tmp/postgres.log" || { cat "$root/tmp/postgres.log"; exit 1; }
'
remove_work_dir "$work_dir/check-postgres-15"

log "checking redis-7: PING over TCP, SIGTERM, as redis in the unpacked image"
umoci unpack --image "$(image redis-7)" "$work_dir/check-redis-7" >/dev/null
check_owner "$work_dir/check-redis-7/rootfs" /data "$REDIS_UID"
run_check redis-7 "$REDIS_UID" '
  start_server /tmp/redis.log "${command[@]}"
  wait_for /tmp/redis.log "Ready to accept connections" 1 30
  answer="$(as_user redis-cli -h 127.0.0.1 PING)"
  [[ "$answer" == PONG ]] || { echo "redis-cli PING answered: $answer"; exit 1; }
  stop_server TERM /tmp/redis.log 30
'
remove_work_dir "$work_dir/check-redis-7"

printf '%s\n' "$cache_key" >"$new_layout/$stamp_name"
# umoci writes blobs 0600; tests running as a normal user must be able to read the layout.
chmod -R a+rX "$new_layout"

# Publish: move the old layout aside, rename the new one in, then delete the old one.
if [[ -e "$layout_dir" ]]; then mv "$layout_dir" "$layout_dir.old.$$"; fi
mv "$new_layout" "$layout_dir"
remove_work_dir "$layout_dir.old.$$"
remove_work_dir "$work_dir"
trap - EXIT

log "built in $((SECONDS - started_at)) s: PostgreSQL $postgres_version (postgres $POSTGRES_UID:$POSTGRES_UID), Redis $redis_version (redis $REDIS_UID:$REDIS_UID)"
print_summary "$layout_dir"
