#!/usr/bin/env bash
# Checks a running stack (test/stack/stack up) end to end with plain tools:
#   Kafka:    create a topic, produce one message and consume it (Kafka's own console tools)
#   HDFS:     WebHDFS CREATE (307 followed by hand, Location must be 127.0.0.1), OPEN, byte-for-byte compare
#   InfluxDB: write a point through /api/v2/write, read it back through /query (InfluxQL) and /api/v2/query (Flux)
# Uses the same USERPIPE_* port variables as the stack script. Exit 0 when all pass.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STACK="$HERE/stack"
eval "$("$STACK" env)"

HOST=127.0.0.1
RUN_ID="$(date +%s)-$$"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
PASSED=0
FAILED=0

ok() { printf 'ok   %s\n' "$*"; PASSED=$((PASSED + 1)); }
bad() { printf 'FAIL %s\n' "$*"; FAILED=$((FAILED + 1)); }
port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }
short() { tail -n 3 <<<"$1"; }

# ------------------------------------------------------------------ Kafka
kafka_check() {
  local topic="selftest-$RUN_ID" msg="hello-userpipe-$RUN_ID" out
  local boot="$USERPIPE_STACK_KAFKA_BOOTSTRAP"
  if ! port_open "$USERPIPE_KAFKA_PORT"; then
    bad "kafka: nothing listens on $boot (is the stack up? test/stack/stack status)"
    return
  fi
  if ! out=$(timeout 60 "$STACK" kafka-run org.apache.kafka.tools.TopicCommand --bootstrap-server "$boot" \
    --create --topic "$topic" --partitions 1 --replication-factor 1 2>&1); then
    bad "kafka: create topic $topic: $(short "$out")"
    return
  fi
  ok "kafka: created topic $topic"
  if ! out=$(printf '%s\n' "$msg" | timeout 60 "$STACK" kafka-run org.apache.kafka.tools.ConsoleProducer \
    --bootstrap-server "$boot" --topic "$topic" --producer-property acks=all 2>&1); then
    bad "kafka: produce: $(short "$out")"
    return
  fi
  ok "kafka: produced one message"
  out=$(timeout 60 "$STACK" kafka-run org.apache.kafka.tools.consumer.ConsoleConsumer --bootstrap-server "$boot" \
    --topic "$topic" --from-beginning --max-messages 1 --timeout-ms 30000 \
    --group "selftest-$RUN_ID" 2>"$TMP/consumer.err") || true
  if [[ $out == "$msg" ]]; then
    ok "kafka: consumed the same message through consumer group selftest-$RUN_ID"
  else
    bad "kafka: consumed '${out}' instead of '$msg': $(tail -n 5 "$TMP/consumer.err")"
  fi
  timeout 60 "$STACK" kafka-run org.apache.kafka.tools.TopicCommand --bootstrap-server "$boot" \
    --delete --topic "$topic" >/dev/null 2>&1 || true
}

# ------------------------------------------------------------------ HDFS (WebHDFS)
hdfs_check() {
  local base="$USERPIPE_STACK_WEBHDFS_URL" path="/tmp/userpipe-selftest/$RUN_ID.bin" headers loc code
  if ! port_open "$USERPIPE_HDFS_NN_PORT"; then
    bad "hdfs: nothing listens on the NameNode port $USERPIPE_HDFS_NN_PORT (is the stack up?)"
    return
  fi
  head -c 300000 /dev/urandom >"$TMP/in.bin"
  headers=$(curl -s -o /dev/null -D - -X PUT "$base$path?op=CREATE&overwrite=true&user.name=selftest") || {
    bad "hdfs: CREATE request to the NameNode failed"
    return
  }
  code=$(sed -n '1s/^HTTP\/[0-9.]* \([0-9]*\).*/\1/p' <<<"$headers")
  loc=$(tr -d '\r' <<<"$headers" | sed -n 's/^[Ll]ocation: //p')
  if [[ $code != 307 || -z $loc ]]; then
    bad "hdfs: CREATE answered $code without a redirect"
    return
  fi
  if [[ $loc != "http://$HOST:$USERPIPE_HDFS_DN_PORT/"* ]]; then
    bad "hdfs: CREATE redirect names $loc, expected http://$HOST:$USERPIPE_HDFS_DN_PORT/..."
    return
  fi
  ok "hdfs: CREATE answered 307 to the DataNode at $HOST:$USERPIPE_HDFS_DN_PORT"
  code=$(curl -s -o "$TMP/create.out" -w '%{http_code}' -X PUT -H 'Content-Type: application/octet-stream' \
    --data-binary @"$TMP/in.bin" "$loc") || true
  if [[ $code != 201 ]]; then
    bad "hdfs: DataNode answered $code to the upload: $(cat "$TMP/create.out")"
    return
  fi
  ok "hdfs: DataNode stored the file (201)"
  code=$(curl -s -L -o "$TMP/out.bin" -w '%{http_code}' "$base$path?op=OPEN&user.name=selftest") || true
  if [[ $code == 200 ]] && cmp -s "$TMP/in.bin" "$TMP/out.bin"; then
    ok "hdfs: OPEN returned the same 300000 bytes"
  else
    bad "hdfs: OPEN answered $code, bytes differ or missing"
  fi
  curl -s -o /dev/null -X DELETE "$base/tmp/userpipe-selftest?op=DELETE&recursive=true&user.name=selftest" || true
}

# ------------------------------------------------------------------ InfluxDB
influx_check() {
  local url="$USERPIPE_STACK_INFLUX_URL" db="$USERPIPE_STACK_INFLUX_DB" ts code out
  code=$(curl -s -o /dev/null -w '%{http_code}' "$url/ping") || true
  if [[ $code != 204 ]]; then
    bad "influxdb: /ping at $url answered '$code' (is the stack up?)"
    return
  fi
  ok "influxdb: /ping answered 204"
  ts=$(date +%s)
  code=$(curl -s -o "$TMP/write.out" -w '%{http_code}' -XPOST \
    "$url/api/v2/write?org=any&bucket=$db&precision=s" --data-binary "selftest,run=$RUN_ID value=42i $ts") || true
  if [[ $code != 204 ]]; then
    bad "influxdb: /api/v2/write answered $code: $(cat "$TMP/write.out")"
    return
  fi
  ok "influxdb: /api/v2/write answered 204"
  out=$(curl -s -G "$url/query" --data-urlencode "db=$db" \
    --data-urlencode "q=SELECT value FROM selftest WHERE run='$RUN_ID'" --data-urlencode "epoch=s") || true
  if [[ $out == *"[[$ts,42]]"* ]]; then
    ok "influxdb: /query read the point back"
  else
    bad "influxdb: /query answered $out"
  fi
  out=$(curl -s -XPOST "$url/api/v2/query" -H 'Content-Type: application/vnd.flux' -H 'Accept: application/csv' \
    --data "from(bucket:\"$db\") |> range(start: -1h) |> filter(fn: (r) => r._measurement == \"selftest\" and r.run == \"$RUN_ID\")") || true
  if [[ $out == *",42,value,selftest,$RUN_ID"* ]]; then
    ok "influxdb: Flux /api/v2/query read the point back"
  else
    bad "influxdb: Flux /api/v2/query answered $out"
  fi
  curl -s -o /dev/null -XPOST "$url/query" --data-urlencode "db=$db" \
    --data-urlencode "q=DROP SERIES FROM selftest WHERE run='$RUN_ID'" || true
}

kafka_check
hdfs_check
influx_check
echo "selftest: $PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
