#!/usr/bin/env bash
# Provisions the PostgreSQL + pgvector that Atende needs, with no system service:
#   postgres.sh install   install what is missing (Debian, as root), or say exactly what to install
#   postgres.sh start     start the project's own cluster in .atende/pg (created on first use)
#   postgres.sh stop      stop it
#   postgres.sh url DB    print the connection URL for database DB (creating it if missing)
#   postgres.sh port      print the cluster's port
# The cluster listens on 127.0.0.1, on ATENDE_PG_PORT or on the first free port
# from 15432 (remembered in .atende/port): away from a system PostgreSQL on
# 5432 and below the kernel's ephemeral range, where a client socket could take it.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
state="$root/.atende"
data="$state/pg"
port_file="$state/port"
pg_major="${ATENDE_PG_MAJOR:-15}"
pg_bin="/usr/lib/postgresql/$pg_major/bin"

say() { printf 'postgres.sh: %s\n' "$*" >&2; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# resolve_port sets port: ATENDE_PG_PORT, else the remembered one, else the
# first free one from 15432, remembered for the next runs.
resolve_port() {
  if [ -n "${ATENDE_PG_PORT:-}" ]; then
    port="$ATENDE_PG_PORT"
  elif [ -s "$port_file" ]; then
    port=$(cat "$port_file")
  else
    port=15432
    while port_in_use "$port" && [ "$port" -lt 15532 ]; do port=$((port + 1)); done
    mkdir -p "$state"
    echo "$port" > "$port_file"
  fi
}
resolve_port

cannot_install() {
  cat >&2 <<MSG
postgres.sh: cannot install PostgreSQL $pg_major with pgvector here ($1).
Install these yourself and run again:
  Debian/Ubuntu (as root): apt-get install postgresql-$pg_major postgresql-server-dev-$pg_major build-essential dpkg-dev
                           then pgvector: apt-get source pgvector (from a release that ships it) && make && make install
  Or skip all of this: run the container image pgvector/pgvector:pg$pg_major and set
  DATABASE_URL=postgres://USER:PASSWORD@HOST:PORT/DB (make run then starts no database of its own).
MSG
  exit 1
}

have_pgvector() {
  [ -x "$pg_bin/pg_config" ] || return 1
  [ -f "$("$pg_bin/pg_config" --sharedir)/extension/vector.control" ]
}

install() {
  if [ -x "$pg_bin/initdb" ] && have_pgvector; then
    return 0
  fi
  [ "$(id -u)" = 0 ] || cannot_install "not root"
  command -v apt-get >/dev/null && [ -f /etc/debian_version ] || cannot_install "not Debian"
  export DEBIAN_FRONTEND=noninteractive
  say "installing PostgreSQL $pg_major server and build tools"
  apt-get update -q >/dev/null
  apt-get install -y -q "postgresql-$pg_major" "postgresql-server-dev-$pg_major" build-essential dpkg-dev >/dev/null
  if have_pgvector; then return 0; fi
  # Bookworm ships no pgvector: build it from Debian's own source package of the next release.
  # Only a deb-src line is added, so no binary package from that release is ever installed.
  local src_list=/etc/apt/sources.list.d/atende-pgvector-src.list
  if ! apt-cache showsrc pgvector >/dev/null 2>&1 || [ -z "$(apt-cache showsrc pgvector 2>/dev/null)" ]; then
    say "adding a deb-src entry for trixie to build pgvector"
    echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" > "$src_list"
    apt-get update -q >/dev/null
  fi
  local build
  build=$(mktemp -d)
  ( cd "$build" && apt-get source -q pgvector >/dev/null 2>&1 ) || cannot_install "apt-get source pgvector failed"
  local dir
  dir=$(find "$build" -maxdepth 1 -type d -name 'pgvector-*' | head -n 1)
  say "building pgvector from $(basename "$dir")"
  make -s -C "$dir" PG_CONFIG="$pg_bin/pg_config" OPTFLAGS="" >/dev/null
  make -s -C "$dir" PG_CONFIG="$pg_bin/pg_config" install >/dev/null
  rm -rf "$build"
  have_pgvector || cannot_install "pgvector did not install"
}

# as_owner runs a command as the cluster's owner: PostgreSQL refuses to run as root.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

running() {
  [ -L "$state/pg" ] && data=$(readlink -f "$state/pg")
  [ -f "$data/postmaster.pid" ] && as_owner "$pg_bin/pg_ctl" -D "$data" status >/dev/null 2>&1
}

# place_data_dir keeps the cluster in .atende/pg. When that path is not
# reachable by the postgres user (a checkout under /root, say), the files live
# under /var/lib/atende and .atende/pg is a link to them.
place_data_dir() {
  mkdir -p "$state"
  [ "$(id -u)" = 0 ] || return 0
  chown postgres "$state"
  if [ -L "$state/pg" ]; then
    data=$(readlink -f "$state/pg")
    return 0
  fi
  if ! (cd / && runuser -u postgres -- test -w "$state"); then
    local outside
    outside="/var/lib/atende/$(printf '%s' "$root" | sha1sum | cut -c1-12)/pg"
    say "$state is not reachable by the postgres user; keeping the cluster in $outside (linked from .atende/pg)"
    mkdir -p "$(dirname "$outside")"
    chown postgres "$(dirname "$outside")"
    ln -sfn "$outside" "$state/pg"
    data="$outside"
  fi
}

start() {
  install
  place_data_dir
  if [ ! -f "$data/PG_VERSION" ]; then
    say "creating the cluster in $data"
    as_owner "$pg_bin/initdb" -D "$data" -U atende --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >> "$data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$data'
max_connections = 200
shared_buffers = 256MB
maintenance_work_mem = 1GB
fsync = ${ATENDE_PG_FSYNC:-on}
CONF
  fi
  if running; then
    return 0
  fi
  as_owner "$pg_bin/pg_ctl" -D "$data" -l "$data/server.log" -o "-p $port" -w -t 60 start >/dev/null \
    || { tail -n 20 "$data/server.log" >&2; exit 1; }
  say "PostgreSQL $pg_major with pgvector on 127.0.0.1:$port"
}

stop() {
  if running; then
    as_owner "$pg_bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
  fi
}

url() {
  local db="$1"
  if ! "$pg_bin/psql" -h 127.0.0.1 -p "$port" -U atende -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
    "$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U atende "$db"
  fi
  echo "postgres://atende@127.0.0.1:$port/$db?sslmode=disable"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  running) running ;;
  port) echo "$port" ;;
  url) url "${2:?database name}" ;;
  *) echo "usage: $0 install|start|stop|running|port|url DB" >&2; exit 2 ;;
esac
