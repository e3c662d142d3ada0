#!/usr/bin/env bash
# `npm test`: every suite, one after another, then one line "N passed, N failed".
# Exits non-zero when anything failed. Suites: typecheck, unit, integration (real PostgreSQL),
# end-to-end (Playwright in Debian's Chromium), and the smoke test of the README's start line.
set -u
cd "$(dirname "$0")/.."

out=$(mktemp -d)
test_pg_pid=""
cleanup() {
  [ -n "$test_pg_pid" ] && kill "$test_pg_pid" 2>/dev/null && wait "$test_pg_pid" 2>/dev/null
  rm -rf "$out"
}
trap cleanup EXIT

# The integration and e2e suites need a PostgreSQL server. Use the machine's (127.0.0.1:5432, as on
# this project's machines and CI) or CUTOVER_TEST_PG_URL; with neither, run the embedded one.
if [ -z "${CUTOVER_TEST_PG_URL:-}" ] && ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
  echo "== no PostgreSQL on 127.0.0.1:5432: starting the embedded one for the tests"
  npx tsx scripts/test-postgres.ts >"$out/test-pg.log" 2>&1 &
  test_pg_pid=$!
  for _ in $(seq 1 120); do grep -q '^READY ' "$out/test-pg.log" && break; sleep 0.5; done
  url=$(sed -n 's/^READY //p' "$out/test-pg.log")
  if [ -z "$url" ]; then cat "$out/test-pg.log"; echo "0 passed, 1 failed"; exit 1; fi
  export CUTOVER_TEST_PG_URL="$url"
fi

# End-to-end tests drive Debian's Chromium; install it when we may (root with apt), else say how.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing Debian's chromium for the end-to-end tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "The end-to-end tests need Chromium at /usr/bin/chromium: sudo apt-get install chromium"
  fi
fi
passed=0
failed=0
summary=()

add() { # suite passed failed
  passed=$((passed + $2)); failed=$((failed + $3))
  summary+=("$(printf '%-12s %4d passed, %d failed' "$1" "$2" "$3")")
}

count_json() { # file expression-for-passed expression-for-failed
  node -e "const r=require('$1');console.log(($2)+' '+($3))" 2>/dev/null || echo "0 1"
}

echo "== typecheck"
if npx tsc --noEmit; then add typecheck 1 0; else add typecheck 0 1; fi

echo "== lint"
if npx eslint .; then add lint 1 0; else add lint 0 1; fi

for project in unit integration; do
  echo "== $project tests"
  npx vitest run --project "$project" --reporter=default --reporter=json --outputFile="$out/$project.json"
  if [ -f "$out/$project.json" ]; then
    read -r p f < <(count_json "$out/$project.json" 'r.numPassedTests' 'r.numFailedTests + (r.success || r.numFailedTests ? 0 : 1)')
  else
    p=0; f=1
  fi
  add "$project" "$p" "$f"
done

echo "== end-to-end tests (Playwright, Chromium)"
PLAYWRIGHT_JSON_OUTPUT_NAME="$out/e2e.json" npx playwright test --reporter=list,json
if [ -f "$out/e2e.json" ]; then
  read -r p f < <(count_json "$out/e2e.json" 'r.stats.expected + r.stats.flaky' 'r.stats.unexpected + (r.errors && r.errors.length ? r.errors.length : 0)')
else
  p=0; f=1
fi
add e2e "$p" "$f"

echo "== smoke test of the start line"
bash scripts/smoke-start.sh | tee "$out/smoke.log"
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out/smoke.log" | tail -n 1)
if [ -n "$line" ]; then
  p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
else
  p=0; f=1
fi
add smoke "$p" "$f"

echo
printf '%s\n' "${summary[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
