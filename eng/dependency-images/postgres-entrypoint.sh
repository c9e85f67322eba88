#!/bin/sh
# The entrypoint of the postgres-15 test image (eng/dependency-images.sh installs it as
# /usr/local/bin/docker-entrypoint.sh). It offers the interface of the official `postgres` image:
#
#   POSTGRES_PASSWORD          the superuser's password; required unless POSTGRES_HOST_AUTH_METHOD=trust
#   POSTGRES_USER              the superuser (default postgres)
#   POSTGRES_DB                a database created for it (default: POSTGRES_USER)
#   POSTGRES_HOST_AUTH_METHOD  pg_hba.conf method for TCP connections (default scram-sha-256)
#   POSTGRES_INITDB_ARGS       more initdb arguments (shell words)
#   <NAME>_FILE                read POSTGRES_PASSWORD, _USER, _DB or _INITDB_ARGS from a file
#   /docker-entrypoint-initdb.d/*.sql, *.sql.gz, *.sh   run once, after initdb, in name order
#
# Unlike the official image it never runs as root: the image's user is postgres, and nothing here
# switches users or changes ownership (PGDATA must be writable by the user the container runs as).
# Unix-socket connections from inside the container are trusted, as in the official image; TCP
# connections, loopback included, need the password.
set -eu

me="$0"
log() { printf '%s: %s\n' "$me" "$*"; }
die() { printf '%s: error: %s\n' "$me" "$*" >&2; exit 1; }

# file_env NAME [DEFAULT]: NAME keeps its value, or takes the content of the file NAME_FILE names
# (not both), or DEFAULT; the result is exported and NAME_FILE unset.
file_env() {
  name="$1"
  eval "value=\${$name:-}"
  eval "file=\${${name}_FILE:-}"
  if [ -n "$value" ] && [ -n "$file" ]; then
    die "both $name and ${name}_FILE are set; set one of them"
  fi
  if [ -n "$file" ]; then
    [ -r "$file" ] || die "${name}_FILE=$file is not a readable file"
    value="$(cat "$file")"
  fi
  [ -n "$value" ] || value="${2:-}"
  export "$name=$value"
  unset "${name}_FILE"
}

# psql for the init steps: stop at the first error, never prompt, ignore ~/.psqlrc.
init_psql() { psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc "$@"; }

initialize() {
  if [ -z "$POSTGRES_PASSWORD" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != trust ]; then
    cat >&2 <<'MESSAGE'
Error: Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the
       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".

       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all
       connections without a password. This is *not* recommended.
MESSAGE
    exit 1
  fi
  if [ "$POSTGRES_HOST_AUTH_METHOD" = trust ]; then
    log "warning: POSTGRES_HOST_AUTH_METHOD=trust: every TCP connection is accepted without a password"
  fi

  # initdb wants PGDATA 0700 (or 0750); it fixes that itself when it owns the directory.
  chmod 700 "$PGDATA" 2>/dev/null || :

  password_option=""
  if [ -n "$POSTGRES_PASSWORD" ]; then
    password_file="$(mktemp)"
    trap 'rm -f "$password_file"' EXIT
    printf '%s\n' "$POSTGRES_PASSWORD" >"$password_file"
    # shellcheck disable=SC2016 # expanded by the eval below
    password_option='--pwfile="$password_file"'
  fi
  # eval: POSTGRES_INITDB_ARGS is shell words (quotes allowed), as in the official image.
  eval 'initdb --username="$POSTGRES_USER" --auth-local=trust --auth-host="$POSTGRES_HOST_AUTH_METHOD"' \
    "$password_option $POSTGRES_INITDB_ARGS"
  if [ -n "$POSTGRES_PASSWORD" ]; then
    rm -f "$password_file"
    trap - EXIT
  fi

  # The image's postgresql.conf.sample already says listen_addresses = '*'.
  {
    printf '\n# docker-entrypoint.sh: TCP connections from any address (other containers, the host)\n'
    printf 'host all all 0.0.0.0/0 %s\n' "$POSTGRES_HOST_AUTH_METHOD"
    printf 'host all all ::/0 %s\n' "$POSTGRES_HOST_AUTH_METHOD"
  } >>"$PGDATA/pg_hba.conf"

  # A server on the Unix socket only, so nothing connects over TCP before the init scripts ran.
  export PGUSER="${PGUSER:-$POSTGRES_USER}" PGPASSWORD="${PGPASSWORD:-$POSTGRES_PASSWORD}"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p ${PGPORT:-5432}" -w start

  database_exists="$(init_psql --dbname postgres --set db="$POSTGRES_DB" --tuples-only --no-align <<'SQL'
SELECT 1 FROM pg_database WHERE datname = :'db';
SQL
)"
  if [ -z "$database_exists" ]; then
    init_psql --dbname postgres --set db="$POSTGRES_DB" <<'SQL'
CREATE DATABASE :"db";
SQL
  fi

  for file in /docker-entrypoint-initdb.d/*; do
    [ -e "$file" ] || continue
    case "$file" in
      *.sh)
        if [ -x "$file" ]; then
          log "running $file"
          "$file"
        else
          log "sourcing $file"
          # shellcheck disable=SC1090 # the user's script
          . "$file"
        fi
        ;;
      *.sql) log "running $file"; init_psql --dbname "$POSTGRES_DB" -f "$file" ;;
      *.sql.gz)
        log "running $file"
        gzip -t "$file" || die "$file is not a valid gzip file"
        gzip -dc "$file" | init_psql --dbname "$POSTGRES_DB"
        ;;
      *) log "ignoring $file" ;;
    esac
  done

  pg_ctl -D "$PGDATA" -m fast -w stop
  unset PGPASSWORD
  log "PostgreSQL init process complete; ready for start up."
}

# `docker run postgres-15 -c fsync=off`: options go to postgres.
if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then
  set -- postgres "$@"
fi

if [ "$1" = postgres ]; then
  uid="$(id -u)"
  # GNU id prints the number and fails for a uid without a name.
  if name="$(id -un 2>/dev/null)"; then user="$name (uid $uid)"; else user="uid $uid"; fi
  if [ "$uid" = 0 ]; then
    die "running as root; this image runs PostgreSQL as its own user postgres and never switches users (postgres refuses to run as root). Run the container as user postgres, the image's default."
  fi
  : "${PGDATA:?is not set (the image sets /var/lib/postgresql/data)}"
  file_env POSTGRES_PASSWORD
  file_env POSTGRES_USER postgres
  file_env POSTGRES_DB "$POSTGRES_USER"
  file_env POSTGRES_INITDB_ARGS
  export POSTGRES_HOST_AUTH_METHOD="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"

  if [ ! -d "$PGDATA" ]; then
    mkdir -p "$PGDATA" 2>/dev/null || die "cannot create PGDATA=$PGDATA as $user; its parent must be writable by uid $uid"
  fi
  if [ ! -w "$PGDATA" ] || [ ! -x "$PGDATA" ]; then
    die "PGDATA=$PGDATA (owner $(stat -c %u:%g "$PGDATA"), mode $(stat -c %a "$PGDATA")) is not writable by $user; a volume mounted there must be owned by uid $uid"
  fi

  if [ -s "$PGDATA/PG_VERSION" ]; then
    log "PostgreSQL Database directory appears to contain a database; Skipping initialization"
  else
    initialize
  fi
fi

exec "$@"
