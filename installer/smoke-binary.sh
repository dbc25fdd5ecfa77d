#!/usr/bin/env bash
# Runs the single binary from an empty folder with no node_modules and no Node on PATH: --version, the
# demo's smoke check (Modbus and OPC UA, both simulators inside the binary), the OPC UA certificate
# store, a console sign-in, a read of PostgreSQL and MariaDB history through SQL sources (where the test databases are
# given), and a Modbus RTU read over a socat pty pair from pymodbus (which proves the serial-port addon
# loads from the binary's embedded assets).
set -euo pipefail
binary=$(realpath "${1:-dist/plantgate-linux-x64}")
peer=$(realpath "$(dirname "$0")/../drivers/modbus/test/pymodbus_peer.py")
work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
cp "$binary" "$work/plantgate"
cd "$work"
run() { env -i PATH=/usr/bin:/bin HOME="$work" "$@"; }

version=$(run ./plantgate --version)
echo "binary version: $version"
# NODE_OPTIONS must not load code into the binary (execArgvExtension: none).
echo 'console.log("NODE_OPTIONS reached the binary")' > inject.js
if env -i PATH=/usr/bin:/bin NODE_OPTIONS="--require $work/inject.js" ./plantgate --version | grep -q 'NODE_OPTIONS reached'; then
  echo "NODE_OPTIONS reached the binary" >&2; exit 1
fi
run timeout 60 ./plantgate demo --smoke --dir "$work/demo"
# libsodium (an embedded addon) and the machine identity: seal and open with this machine's key.
run ./plantgate secrets check --config "$work/demo/gateway.yaml"
# The OPC UA source created the gateway's application certificate and trusts the simulator's.
certificates=$(run ./plantgate opcua certificates --config "$work/demo/gateway.yaml")
echo "$certificates"
echo "$certificates" | grep -A1 '^trusted' | grep -q 'packaging-line simulator' || { echo "no trusted OPC UA server certificate" >&2; exit 1; }

# SQL sources: the database client libraries load from the binary and read the latest sample.
if [ -n "${PLANTGATE_TEST_POSTGRES_URL:-}" ] && [ -n "${PLANTGATE_TEST_MYSQL_URL:-}" ]; then
  table="plantgate_smoke_$$"
  create="CREATE TABLE $table (tag VARCHAR(64) NOT NULL, ts TIMESTAMP(3) NOT NULL, value DOUBLE PRECISION)"
  insert="INSERT INTO $table VALUES ('Smoke.Value', '2026-01-01 00:00:00', 42.5)"
  psql -q "$PLANTGATE_TEST_POSTGRES_URL" -c "$create" -c "$insert"
  my_args=(-h 127.0.0.1 -P "$(echo "$PLANTGATE_TEST_MYSQL_URL" | sed -E 's|.*:([0-9]+)/.*|\1|')" -u root "$(basename "$PLANTGATE_TEST_MYSQL_URL")")
  mysql "${my_args[@]}" -e "$create; $insert"
  drop_tables() {
    psql -q "$PLANTGATE_TEST_POSTGRES_URL" -c "DROP TABLE IF EXISTS $table" || true
    mysql "${my_args[@]}" -e "DROP TABLE IF EXISTS $table" || true
  }
  sql_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  source_yaml() { # id dialect url
    local host port db
    host=$(echo "$3" | sed -E 's|^[a-z]+://[^@]*@([^:/]+).*|\1|')
    port=$(echo "$3" | sed -E 's|.*:([0-9]+)/.*|\1|')
    db=$(basename "$3")
    cat <<YAML
  - id: $1
    driver: sql
    settings:
      dialect: $2
      connection: { host: $host, port: $port, database: $db, user: $(echo "$3" | sed -E 's|^[a-z]+://([^@:]*).*|\1|'), tls: { enabled: false } }
      history: { table: $table, tagColumn: tag, timeColumn: ts, valueColumn: value }
YAML
  }
  {
    echo "gateway: { id: smoke-sql, dataDir: ./sql-data }"
    echo "console: { port: $sql_port }"
    echo "sources:"
    source_yaml pg postgres "$PLANTGATE_TEST_POSTGRES_URL"
    source_yaml maria mysql "$PLANTGATE_TEST_MYSQL_URL"
  } > sql.yaml
  env -i PATH=/usr/bin:/bin HOME="$work" ./plantgate gateway --config sql.yaml 2> sql-gateway.log & sql_pid=$!; pids+=($sql_pid)
  for source in pg maria; do
    answer=""
    for _ in $(seq 100); do
      answer=$(run ./plantgate query --config sql.yaml values.snapshot "$source" '{"tags":["Smoke.Value"]}' 2>/dev/null || true)
      echo "$answer" | grep -q '"value": 42.5' && break
      sleep 0.2
    done
    echo "$answer" | grep -q '"value": 42.5' || { echo "SQL read ($source) through the binary failed: $answer" >&2; cat sql-gateway.log >&2; drop_tables; exit 1; }
    echo "SQL read ($source) through the binary: ok"
  done
  kill "$sql_pid"; drop_tables
else
  echo "NOTICE: PLANTGATE_TEST_POSTGRES_URL or PLANTGATE_TEST_MYSQL_URL not set: no SQL read through the binary"
fi

socat pty,raw,echo=0,link="$work/a" pty,raw,echo=0,link="$work/b" & pids+=($!)
for _ in $(seq 50); do [ -e "$work/a" ] && [ -e "$work/b" ] && break; sleep 0.1; done
mkfifo "$work/peer-in"
/usr/bin/python3 "$peer" "{\"mode\":\"rtu\",\"device\":\"$work/b\",\"lifetime\":60,\"units\":{\"1\":[{\"table\":\"hr\",\"address\":0,\"type\":\"int16\",\"value\":-1234}]}}" < "$work/peer-in" > "$work/peer.out" 2>&1 & pids+=($!)
exec 3>"$work/peer-in"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > rtu.yaml <<YAML
gateway: { id: smoke, dataDir: ./rtu-data }
console: { port: $port }
sources:
  - id: bus
    driver: modbus
    settings: { transport: rtu, serial: { path: $work/a, baudRate: 19200 } }
    poll: { intervalMs: 200 }
    tags:
      - { name: X, address: "holding:0", type: int16 }
YAML
# Not through run(): a backgrounded function is a subshell, and killing it would leave the gateway behind.
env -i PATH=/usr/bin:/bin HOME="$work" ./plantgate gateway --config rtu.yaml 2> gateway.log & pids+=($!)
for _ in $(seq 100); do
  answer=$(run ./plantgate query --config rtu.yaml values.snapshot bus '{"tags":["X"]}' 2>/dev/null || true)
  if echo "$answer" | grep -q '"value": -1234'; then
    echo "RTU read through the binary: ok"
    # The console: a one-time sign-in address from console-url opens a session once, and only once.
    url=$(run ./plantgate console-url --config rtu.yaml)
    first=$(curl -s -o /dev/null -w '%{http_code}' "$url")
    again=$(curl -s -o /dev/null -w '%{http_code}' "$url")
    if [ "$first" != 303 ] || [ "$again" != 401 ]; then
      echo "console sign-in through the binary answered $first, then $again (303, then 401 expected)" >&2
      exit 1
    fi
    echo "console sign-in through the binary: ok"
    exit 0
  fi
  sleep 0.2
done
echo "RTU read through the binary failed; last answer: $answer" >&2
cat gateway.log >&2
exit 1
