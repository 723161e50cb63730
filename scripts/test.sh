#!/usr/bin/env bash
# The whole test suite, from a fresh machine: Node >= 22 (installed into a cache if the machine's is older),
# npm dependencies, the build, type check and lint, the real Kafka/HDFS/InfluxDB stack (started if it is not
# up; left running afterwards, `test/stack/stack down` stops it), then unit and integration tests.
#
#   bash scripts/test.sh              everything
#   bash scripts/test.sh --unit       unit tests only (no stack)
#   bash scripts/test.sh FILE...      just these test files (the stack is started when any is an integration test)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/use-node.sh
echo "test: node $(node -v), npm $(npm -v)"

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
else
  npm run --silent build
fi

unit_only=0
files=()
for arg in "$@"; do
  case "$arg" in
    --unit) unit_only=1 ;;
    *) files+=("$arg") ;;
  esac
done

echo "test: type check and lint"
npm run --silent check

# Tests that stop a shared service (Kafka, a NameNode or DataNode, InfluxDB) run last and one at a time, so
# they never pull a service away from another test.
faults=()
if [ ${#files[@]} -eq 0 ]; then
  files=('test/unit/**/*.test.ts')
  if [ "$unit_only" != 1 ]; then
    files+=('test/integration/**/*.test.ts')
    faults=('test/faults/**/*.test.ts')
  fi
fi

needs_stack=0
for f in "${files[@]}" "${faults[@]}"; do case "$f" in *integration*|*faults*) needs_stack=1 ;; esac; done
if [ "$needs_stack" = 1 ] && [ "${USERPIPE_SKIP_STACK:-0}" != 1 ]; then
  echo "test: starting the local stack (Kafka, HDFS, InfluxDB) if it is not up"
  bash test/stack/stack up
fi

# Integration tests share one real stack on a 2-core machine: a little concurrency overlaps their waits
# without starving the services. Each test has a hard timeout so a hang fails instead of stalling CI.
timeout_ms="${USERPIPE_TEST_TIMEOUT_MS:-300000}"
rc=0
node --test --test-reporter=spec --test-concurrency="${USERPIPE_TEST_CONCURRENCY:-2}" \
  --test-timeout="$timeout_ms" "${files[@]}" || rc=$?
if [ ${#faults[@]} -gt 0 ]; then
  echo "test: fault tests (one at a time: they stop and restart services)"
  node --test --test-reporter=spec --test-concurrency=1 --test-timeout="$timeout_ms" "${faults[@]}" || rc=$?
  bash test/stack/stack up >/dev/null # every service back, whatever a failed fault test left
fi
[ "$rc" = 0 ] && echo "test: all passed" || echo "test: FAILED (exit $rc)"
exit "$rc"
