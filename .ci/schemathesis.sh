#!/usr/bin/env bash
# Fuzzes the server through its own OpenAPI document with schemathesis (pinned, from PyPI
# into a virtual environment): no 5xx, only documented status codes, content types and
# bodies, and schema-violating requests refused. Runs the debug server the tests built, on a
# fresh SQLite database, with bounded examples and time. Exits non-zero on any failure.
# Knobs: SCHEMATHESIS_CHECKS (e.g. positive_data_acceptance), SCHEMATHESIS_PHASES,
# SCHEMATHESIS_MAX_EXAMPLES, SCHEMATHESIS_ARGS, SCHEMATHESIS_SEED_DEMO=1 (fill the demo data first,
# so that related-record ids exist).
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
VENV=target/schemathesis-venv
WORK=$(mktemp -d)
PORT=${SCHEMATHESIS_PORT:-3099}
BASE=http://127.0.0.1:$PORT

if [ ! -x "$VENV/bin/schemathesis" ] || ! "$VENV/bin/schemathesis" --version | grep -q "$SCHEMATHESIS_VERSION"; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

[ -x target/debug/crm-server ] || cargo build --bin crm-server

# Quotas out of the way, Twilio configured (its routes answer by signature and permission),
# cheap password hashing.
export DATABASE_URL="sqlite://$WORK/fuzz.db" PORT HOST=127.0.0.1 APP_ENV=test CONFIG_DIR="$PWD/config" \
  ADMIN_EMAIL=chief@fuzz.example ADMIN_PASSWORD=Fuzzing-Boss-Password-1 \
  RATE_LIMIT_ANONYMOUS_PER_HOUR=100000000 RATE_LIMIT_AUTHENTICATED_PER_HOUR=100000000 \
  RATE_LIMIT_ADMIN_PER_HOUR=100000000 LOGIN_MAX_FAILURES_PER_IP=100000000 LOG_LEVEL=error \
  TWILIO_ACCOUNT_SID=AC00000000000000000000000000000000 TWILIO_API_KEY_SID=SK00000000000000000000000000000000 \
  TWILIO_API_KEY_SECRET=fuzz-secret TWILIO_TWIML_APP_SID=AP00000000000000000000000000000000 \
  TWILIO_AUTH_TOKEN=fuzz-auth-token PUBLIC_BASE_URL=https://crm.example.com
if [ "${SCHEMATHESIS_SEED_DEMO:-0}" = 1 ]; then
  target/debug/crm-server seed-demo > "$WORK/seed.log" 2>&1
fi
target/debug/crm-server > "$WORK/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 120); do
  curl -fsS "$BASE/health" >/dev/null 2>&1 && break
  sleep 0.5
done
if ! curl -fsS "$BASE/health" >/dev/null 2>&1; then
  echo "the server did not start:" >&2
  cat "$WORK/server.log" >&2
  exit 1
fi

TOKEN=$(curl -fsS -X POST "$BASE/api/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')

# Sign-out would revoke the token the run goes on with (it is covered by the end-to-end tests).
timeout "${SCHEMATHESIS_TIMEOUT:-1200}" "$VENV/bin/schemathesis" --config-file .ci/schemathesis.toml run "$BASE/openapi.json" \
  --header "Authorization: Bearer $TOKEN" \
  --exclude-path /api/v1/auth/logout \
  --checks "${SCHEMATHESIS_CHECKS:-not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance,negative_data_rejection}" \
  --phases "${SCHEMATHESIS_PHASES:-examples,coverage,fuzzing}" ${SCHEMATHESIS_ARGS:-} \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-40}" --request-timeout 30 \
  --seed "${SCHEMATHESIS_SEED:-20261129}" --no-color --warnings off
