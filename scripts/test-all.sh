#!/usr/bin/env bash
# The project's whole test run: type-check, the dependency audit, the vitest suite on Node, Bun and
# Deno, and the extra checks (systemd unit security). Prints one final line "N passed, N failed" with the real totals.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
export NO_COLOR=1 FORCE_COLOR=0
out="$(mktemp -d)"
passed=0
failed=0
status=0

step() { printf '\n=== %s ===\n' "$*"; }

count_json() { # file label
  if [ -s "$1" ]; then
    read -r p f < <(node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(r.numPassedTests+" "+(r.numFailedTests+(r.numTotalTests===0?1:0)+(r.success===false&&r.numFailedTests===0?1:0)))' "$1")
  else
    p=0; f=1
  fi
  printf '%s: %s passed, %s failed\n' "$2" "$p" "$f"
  passed=$((passed + p)); failed=$((failed + f))
}

step "runtimes"
node --version; bun --version; deno --version | head -n 1

step "type-check (tsc --noEmit)"
if tsc -p tsconfig.json --noEmit; then passed=$((passed + 1)); echo "type-check: ok"; else failed=$((failed + 1)); status=1; fi

step "dependency audit (npm audit, or the offline advisory snapshot)"
if node scripts/audit.ts; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi

step "vitest on Node $(node --version)"
vitest run --reporter=default --reporter=json --outputFile="$out/node.json" || status=1
count_json "$out/node.json" "node"

step "vitest on Bun $(bun --version)"
bun --bun node_modules/vitest/vitest.mjs run --pool=threads --reporter=default --reporter=json --outputFile="$out/bun.json" || status=1
count_json "$out/bun.json" "bun"

step "vitest on Deno $(deno --version | head -n 1 | cut -d' ' -f2)"
deno run -A node_modules/vitest/vitest.mjs run --reporter=default --reporter=json --outputFile="$out/deno.json" || status=1
count_json "$out/deno.json" "deno"

if [ -x scripts/check-units.sh ]; then
  step "systemd unit security check"
  if scripts/check-units.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi
fi

rm -rf "$out"
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
