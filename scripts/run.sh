#!/usr/bin/env bash
# make run: everything up with embedded defaults, no config file and no API keys.
# Without DATABASE_URL it installs and starts the project's own PostgreSQL +
# pgvector (scripts/postgres.sh); with it, it uses that database and starts nothing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [ -z "${DATABASE_URL:-}" ]; then
  scripts/postgres.sh start
  DATABASE_URL=$(scripts/postgres.sh url atende)
  export DATABASE_URL
fi
export ATENDE_ADDR="${ATENDE_ADDR:-127.0.0.1:8080}"

# The demo key: ATENDE_DEMO_API_KEY when given, else one generated on the first
# run and kept (like the database) in .atende/ for the next runs.
if [ -z "${ATENDE_DEMO_API_KEY:-}" ]; then
  mkdir -p .atende
  if [ ! -s .atende/demo-api-key ]; then
    (umask 077; printf 'atd_demo_%s\n' "$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32)" > .atende/demo-api-key)
  fi
  ATENDE_DEMO_API_KEY=$(cat .atende/demo-api-key)
fi
export ATENDE_DEMO_API_KEY

# The key that seals channel, webhook and tool secrets in the database:
# ATENDE_SECRET_KEY when given, else one generated on the first run and kept
# in .atende/secret_key (without it the stored secrets cannot be read).
if [ -z "${ATENDE_SECRET_KEY:-}" ]; then
  mkdir -p .atende
  if [ ! -s .atende/secret_key ]; then
    (umask 077; head -c 32 /dev/urandom | base64 > .atende/secret_key)
  fi
  ATENDE_SECRET_KEY=$(cat .atende/secret_key)
fi
export ATENDE_SECRET_KEY

go build -o bin/atende ./cmd/atende
bin/atende migrate
bin/atende seed >/dev/null

host="${ATENDE_ADDR%:*}"; port="${ATENDE_ADDR##*:}"
[ -z "$host" ] || [ "$host" = "0.0.0.0" ] && host=127.0.0.1
base="http://$host:$port"
cat <<MSG

  Atende is starting on $base
    Webchat demo   $base/chat
    Inbox          $base/inbox   (empresa demo, atendente@demo.atende.dev / atende-demo)
    API            $base/api/v1/contacts
    OpenAPI        $base/api/v1/openapi.yaml
    health         $base/healthz   $base/readyz   $base/metrics
  Demo API key     $ATENDE_DEMO_API_KEY
  Try:
    curl -H "Authorization: Bearer $ATENDE_DEMO_API_KEY" "$base/api/v1/contacts?identity=whatsapp:5511987654321"

MSG
exec bin/atende serve
