#!/usr/bin/env bash
# The e2e web server (playwright.config.ts webServer): recreate the e2e databases, then start
# Cutover with its output copied to .data-e2e/server.log, so specs can scan what the server
# logged (e2e/canary-secret.spec.ts). stdout still goes to Playwright (which ignores it) and
# stderr to Playwright's stderr, as before.
set -euo pipefail
cd "$(dirname "$0")/../.."
log=.data-e2e/server.log
mkdir -p .data-e2e
: >"$log"
npx tsx e2e/support/reset-db.ts
exec npx tsx scripts/start.ts > >(tee -a "$log") 2> >(tee -a "$log" >&2)
