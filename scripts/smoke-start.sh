#!/usr/bin/env bash
# Smoke test of the README's start line, `npm ci && npm start`, on a fresh clone of
# HEAD with no DATABASE_URL: the embedded PostgreSQL starts, the first admin is printed and
# can sign in, and stopping leaves nothing running. Ends with one line "N passed, N failed".
#
# Then two instances started at the same moment against one fresh database on the machine's
# PostgreSQL (SMOKE_PG_URL, default postgresql://postgres@127.0.0.1:5432/postgres) must both
# serve, one of them printing the first admin, and every stop must leave no error line in the log.
#
#   bash scripts/smoke-start.sh        (SMOKE_BOOT_TIMEOUT=seconds to wait for the server; default 360)
#   SMOKE_INCLUDE_WORKTREE=1           also copy uncommitted changes into the clone (to try them before committing)
set -uo pipefail

readonly WEB_PORT=3200
readonly PG_PORT=54400
readonly PAIR_PORTS=(3201 3202)
readonly PG_URL=${SMOKE_PG_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
readonly PAIR_TIMEOUT=${SMOKE_PAIR_TIMEOUT:-180}
readonly BOOT_TIMEOUT=${SMOKE_BOOT_TIMEOUT:-360}
readonly STOP_TIMEOUT=30
repo=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)

passed=0
failed=0
broken=false # once a step fails, the steps that need it are failed without running
work=""
server_pgid=""
started=false # set once our server was launched: only then is a listener on our ports ours
pair_pgids=()
pair_db=""

pass() { passed=$((passed + 1)); echo "ok   - $1"; }
fail() { failed=$((failed + 1)); broken=true; echo "FAIL - $1"; }
skip() { failed=$((failed + 1)); echo "FAIL - $1 (not run: an earlier step failed)"; }
log() { echo "# $*"; }
show_tail() { [ -f "$1" ] && tail -n "${2:-25}" "$1" | sed 's/^/#   /'; }

listeners() { lsof -t -iTCP:"$1" -sTCP:LISTEN 2>/dev/null | sort -u; }
group_alive() { [ -n "$server_pgid" ] && kill -0 -- "-$server_pgid" 2>/dev/null; }

# Stops the server's process group with SIGTERM (start.ts then stops Next and the embedded
# PostgreSQL); returns non-zero when anything had to be killed harder.
stop_server() {
  local clean=0 pid
  if group_alive; then
    kill -TERM -- "-$server_pgid" 2>/dev/null
    for _ in $(seq 1 $((STOP_TIMEOUT * 2))); do group_alive || break; sleep 0.5; done
    if group_alive; then
      log "the server did not stop within ${STOP_TIMEOUT}s of SIGTERM; killing its process group"
      kill -KILL -- "-$server_pgid" 2>/dev/null
      sleep 1
      clean=1
    fi
  fi
  [ -n "$server_pgid" ] && wait "$server_pgid" 2>/dev/null
  server_pgid=""
  $started || return $clean
  # Anything still listening on our ports, or running from the clone, is left over.
  for pid in $(listeners "$PG_PORT") $(listeners "$WEB_PORT") $([ -n "$work" ] && pgrep -f "$work/"); do
    kill -0 "$pid" 2>/dev/null || continue
    log "process $pid was left running ($(ps -o args= -p "$pid" | cut -c1-80)); stopping it"
    kill -TERM "$pid" 2>/dev/null
    for _ in 1 2 3 4 5 6; do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null
    clean=1
  done
  return $clean
}

# Lines a clean stop must not print (after SIGTERM, only the goodbyes are expected).
error_lines() { grep -inE 'error|fail|exception|unhandled' "$1" || true; }

# The pair of instances on the machine's PostgreSQL, each in its own process group.
stop_pair() {
  local clean=0 pgid
  for pgid in "${pair_pgids[@]}"; do kill -TERM -- "-$pgid" 2>/dev/null; done
  for _ in $(seq 1 $((STOP_TIMEOUT * 2))); do
    local alive=false
    for pgid in "${pair_pgids[@]}"; do kill -0 -- "-$pgid" 2>/dev/null && alive=true; done
    $alive || break
    sleep 0.5
  done
  for pgid in "${pair_pgids[@]}"; do
    if kill -0 -- "-$pgid" 2>/dev/null; then
      log "instance group $pgid did not stop within ${STOP_TIMEOUT}s of SIGTERM; killing it"
      kill -KILL -- "-$pgid" 2>/dev/null
      clean=1
    fi
    wait "$pgid" 2>/dev/null
  done
  pair_pgids=()
  return $clean
}

drop_pair_db() {
  [ -n "$pair_db" ] || return 0
  for db in "$pair_db" "${pair_db}_demo"; do
    psql "$PG_URL" -qAtc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1
  done
  psql "$PG_URL" -qAtc "DROP ROLE IF EXISTS \"${pair_db}_demo_owner\"" >/dev/null 2>&1
  pair_db=""
}

finish() {
  local status=$?
  trap - EXIT INT TERM
  stop_server >/dev/null 2>&1
  stop_pair >/dev/null 2>&1
  drop_pair_db
  [ -n "$work" ] && rm -rf "$work"
  if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi # interrupted before any check failed
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit $?
}
trap finish EXIT
trap 'echo "# interrupted"; exit 130' INT TERM

# 0. The ports must be free, or we would be testing somebody else's server.
for port in "$WEB_PORT" "$PG_PORT" "${PAIR_PORTS[@]}"; do
  if [ -n "$(listeners "$port")" ]; then
    echo "# port $port is already in use; stop whatever listens there first"
    fail "ports $WEB_PORT, $PG_PORT and ${PAIR_PORTS[*]} are free"
    exit 1
  fi
done

work=$(mktemp -d /tmp/cutover-smoke.XXXXXX)
# As root the embedded PostgreSQL runs as user postgres, which must reach its data folder.
chmod 755 "$work"
app="$work/cutover"
npm_cache=$(npm config get cache)

# 1. A fresh clone of the committed HEAD (uncommitted changes are not part of the test).
if git clone --quiet --no-hardlinks "$repo" "$app" >"$work/clone.log" 2>&1; then
  if [ "${SMOKE_INCLUDE_WORKTREE:-0}" = 1 ]; then
    # Uncommitted changes and new files, read from the working tree (the repository is not touched).
    git -C "$repo" diff HEAD --binary | git -C "$app" apply --allow-empty >>"$work/clone.log" 2>&1
    (cd "$repo" && git ls-files --others --exclude-standard -z | xargs -0 -r cp --parents -t "$app") >>"$work/clone.log" 2>&1
    log "with the working tree's uncommitted changes"
  fi
  pass "fresh clone of $(git -C "$app" rev-parse --short HEAD)"
else
  show_tail "$work/clone.log"
  fail "fresh clone of $repo"
fi

# 2. npm ci, from the local npm cache where it can.
if $broken; then skip "npm ci"
else
  log "npm ci (cache $npm_cache)..."
  if (cd "$app" && npm ci --prefer-offline --no-audit --no-fund --cache "$npm_cache") >"$work/install.log" 2>&1; then
    pass "npm ci"
  else
    show_tail "$work/install.log"
    fail "npm ci"
  fi
fi

# 3. npm start with a clean environment: none of Cutover's settings, so every default is used.
if $broken; then skip "npm start answers on /signin"
else
  log "npm start on port $WEB_PORT (embedded PostgreSQL on $PG_PORT); the first start builds, up to ${BOOT_TIMEOUT}s..."
  # setsid: the server gets a process group of its own, so all of it can be stopped together.
  (cd "$app" && exec setsid env -u DATABASE_URL -u CUTOVER_DATA_DIR -u CUTOVER_SECRET_KEY -u NEXTAUTH_SECRET -u NEXTAUTH_URL \
    -u CUTOVER_ADMIN_EMAIL -u CUTOVER_ADMIN_PASSWORD -u CUTOVER_DEMO \
    PORT="$WEB_PORT" CUTOVER_EMBEDDED_PG_PORT="$PG_PORT" npm start) >"$work/start.log" 2>&1 &
  server_pgid=$!
  started=true
  since=$SECONDS
  code=000
  while [ $((SECONDS - since)) -lt "$BOOT_TIMEOUT" ]; do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://localhost:$WEB_PORT/signin" || true)
    [ "$code" = 200 ] && break
    group_alive || break
    sleep 2
  done
  grep -q 'building the web app' "$work/start.log" && log "the first start built the web app"
  if [ "$code" = 200 ]; then
    pass "npm start answers 200 on /signin after $((SECONDS - since))s"
  else
    show_tail "$work/start.log" 40
    fail "npm start answers 200 on /signin (last status $code after $((SECONDS - since))s)"
  fi
fi

# 4. The embedded PostgreSQL started (no DATABASE_URL was given).
if $broken; then skip "the embedded PostgreSQL started"
elif grep -q "embedded PostgreSQL 15 on 127.0.0.1:$PG_PORT" "$work/start.log" && [ -n "$(listeners "$PG_PORT")" ]; then
  pass "the embedded PostgreSQL started on 127.0.0.1:$PG_PORT"
else
  show_tail "$work/start.log"
  fail "the embedded PostgreSQL started on 127.0.0.1:$PG_PORT"
fi

# 5. The first admin's credentials were printed.
email=$(sed -n 's/.*\[cutover\] *email: *\([^ ]*\).*/\1/p' "$work/start.log" 2>/dev/null | head -n 1)
password=$(sed -n 's/.*\[cutover\] *password: *\([^ ]*\).*/\1/p' "$work/start.log" 2>/dev/null | head -n 1)
if $broken; then skip "the first admin was printed"
elif grep -q 'first admin created' "$work/start.log" && [ "$email" = admin@cutover.local ] && [ -n "$password" ]; then
  pass "the first admin was printed ($email)"
else
  show_tail "$work/start.log"
  fail "the first admin was printed"
fi

# 6. ...and can sign in with what was printed.
if $broken; then skip "the printed admin can sign in"
else
  jar="$work/cookies.txt"
  base="http://localhost:$WEB_PORT"
  csrf=$(curl -s --max-time 10 -c "$jar" -b "$jar" "$base/api/auth/csrf" | sed -n 's/.*"csrfToken":"\([^"]*\)".*/\1/p')
  curl -s --max-time 20 -o /dev/null -c "$jar" -b "$jar" \
    --data-urlencode "csrfToken=$csrf" --data-urlencode "email=$email" --data-urlencode "password=$password" \
    --data-urlencode "json=true" "$base/api/auth/callback/credentials"
  session=$(curl -s --max-time 10 -b "$jar" "$base/api/auth/session")
  if [ -n "$csrf" ] && [[ "$session" == *"\"email\":\"$email\""* ]]; then
    pass "the printed admin can sign in"
    # The password was printed once; its file goes at that admin's first sign-in.
    if [ ! -e "$app/.data/initial-admin-password" ]; then
      pass "the first sign-in removed .data/initial-admin-password"
    else
      fail "the first sign-in removed .data/initial-admin-password"
    fi
  else
    echo "# session: ${session:-<none>}"
    fail "the printed admin can sign in"
  fi
fi

# 7. SIGTERM stops everything: Next, start.ts and the embedded PostgreSQL.
if [ -z "$server_pgid" ]; then skip "SIGTERM stops the server and the embedded PostgreSQL"
else
  before=$(wc -l <"$work/start.log")
  if stop_server; then
    pass "SIGTERM stops the server and the embedded PostgreSQL, nothing left on ports $WEB_PORT and $PG_PORT"
  else
    show_tail "$work/start.log" 15
    fail "SIGTERM stops the server and the embedded PostgreSQL"
  fi
  tail -n +"$((before + 1))" "$work/start.log" >"$work/stop.log"
  if [ -z "$(error_lines "$work/stop.log")" ]; then
    pass "a clean stop leaves no error line in the log"
  else
    error_lines "$work/stop.log" | head -n 10 | sed 's/^/#   /'
    fail "a clean stop leaves no error line in the log"
  fi
fi

# 8. Two instances started at the same moment on one fresh database (DATABASE_URL mode, demo on):
#    both serve, the first admin is made (and printed) once, and both stop cleanly.
if $broken; then skip "two instances started at once on one empty database both serve"
elif ! psql "$PG_URL" -qAtc 'SELECT 1' >/dev/null 2>&1; then
  fail "the machine's PostgreSQL answers at $PG_URL (needed for the two-instance check)"
else
  pair_db="cutover_smoke_$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
  psql "$PG_URL" -qAtc "CREATE DATABASE \"$pair_db\"" >/dev/null
  db_url=$(node -e 'const u = new URL(process.argv[1]); u.pathname = "/" + process.argv[2]; console.log(u.toString())' "$PG_URL" "$pair_db")
  mkdir -p "$work/shared-data" && chmod 700 "$work/shared-data"
  log "two instances on ports ${PAIR_PORTS[*]} against $pair_db, started together..."
  for i in 0 1; do
    (cd "$app" && exec setsid env -u CUTOVER_SECRET_KEY -u NEXTAUTH_SECRET -u NEXTAUTH_URL -u CUTOVER_ADMIN_EMAIL -u CUTOVER_ADMIN_PASSWORD \
      DATABASE_URL="$db_url" CUTOVER_DEMO=1 CUTOVER_DATA_DIR="$work/shared-data" PORT="${PAIR_PORTS[$i]}" CUTOVER_WEB_WORKERS=1 \
      npm start) >"$work/pair-$i.log" 2>&1 &
    pair_pgids+=($!)
  done
  since=$SECONDS
  codes=(000 000)
  while [ $((SECONDS - since)) -lt "$PAIR_TIMEOUT" ]; do
    for i in 0 1; do
      [ "${codes[$i]}" = 200 ] || codes[$i]=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://localhost:${PAIR_PORTS[$i]}/signin" || true)
    done
    [ "${codes[0]}" = 200 ] && [ "${codes[1]}" = 200 ] && break
    kill -0 -- "-${pair_pgids[0]}" 2>/dev/null && kill -0 -- "-${pair_pgids[1]}" 2>/dev/null || break
    sleep 2
  done
  if [ "${codes[0]}" = 200 ] && [ "${codes[1]}" = 200 ]; then
    pass "two instances started at once on one empty database both serve /signin (after $((SECONDS - since))s)"
  else
    for i in 0 1; do echo "# instance $i (port ${PAIR_PORTS[$i]}, last status ${codes[$i]}):"; show_tail "$work/pair-$i.log" 20; done
    fail "two instances started at once on one empty database both serve /signin"
  fi
  admins=$(cat "$work/pair-0.log" "$work/pair-1.log" | grep -c 'first admin created')
  users=$(psql "$db_url" -qAtc 'SELECT count(*) FROM users' 2>/dev/null)
  demo_user=$(psql "$db_url" -qAtc "SELECT username FROM target_databases WHERE name = 'Demo shop'" 2>/dev/null)
  if [ "$admins" = 1 ] && [ "$users" = 1 ] && [ "$demo_user" = "${pair_db}_demo_owner" ]; then
    pass "the first admin was created and printed once; the demo target uses its own role"
  else
    fail "the first admin was created and printed once (printed $admins times, $users users); demo target user: ${demo_user:-none}"
  fi
  before0=$(wc -l <"$work/pair-0.log"); before1=$(wc -l <"$work/pair-1.log")
  if stop_pair; then pass "SIGTERM stops both instances"; else fail "SIGTERM stops both instances"; fi
  { tail -n +"$((before0 + 1))" "$work/pair-0.log"; tail -n +"$((before1 + 1))" "$work/pair-1.log"; } >"$work/pair-stop.log"
  if [ -z "$(error_lines "$work/pair-stop.log")" ]; then
    pass "stopping both leaves no error line in their logs"
  else
    error_lines "$work/pair-stop.log" | head -n 10 | sed 's/^/#   /'
    fail "stopping both leaves no error line in their logs"
  fi
  drop_pair_db
fi
