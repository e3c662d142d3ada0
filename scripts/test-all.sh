#!/usr/bin/env bash
# `npm test`: every suite, one after another, then one line "N passed, N failed".
# Exits non-zero when anything failed. Suites: typecheck, unit, integration (real PostgreSQL),
# end-to-end (Playwright in Debian's Chromium), and the smoke test of the README's start line.
set -u
cd "$(dirname "$0")/.."

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
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
