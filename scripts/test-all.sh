#!/usr/bin/env bash
# The project's whole test run: type-check, lint and format (Biome), unused files and dependencies
# and exports (knip), the layering rule, the dependency audit, the vitest suite on Node, Bun and
# Deno, the Node suite once more with the clock a year ahead (faketime), and the extra checks (systemd
# unit security). Prints one final line "N passed, N failed" with the real totals.
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

step "lint and format (biome ci)"
if biome ci --colors=off .; then passed=$((passed + 1)); echo "biome: ok"; else failed=$((failed + 1)); status=1; fi

step "unused files, exports and dependencies (knip)"
if knip --no-progress; then passed=$((passed + 1)); echo "knip: ok"; else failed=$((failed + 1)); status=1; fi

step "layering rule (imports only point down)"
if node scripts/check-layers.ts; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi

step "dependency audit (npm audit, or the offline advisory snapshot)"
if node scripts/audit.ts; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi

step "vitest on Node $(node --version)"
vitest run --reporter=default --reporter=json --outputFile="$out/node.json" || status=1
count_json "$out/node.json" "node"

# A test that depends on today's date passes today and fails later: run the suite with the whole
# process tree (workers, the daemons and CLIs the tests spawn, git) a year in the future. libfaketime
# shifts Date.now(), timers stay real; the probe first proves the shift reaches Node.
step "vitest on Node with the clock a year ahead (faketime +365d)"
shift_s=0
if command -v faketime >/dev/null; then
  future=$(timeout 20 faketime -f "+365d" node -e 'process.stdout.write(String(Math.floor(Date.now() / 1000)))') || future=0
  shift_s=$(( ${future:-0} - $(date +%s) ))
fi
if [ "$shift_s" -ge $((364 * 86400)) ] && [ "$shift_s" -le $((366 * 86400)) ]; then
  echo "Date.now() in Node is $((shift_s / 86400)) days ahead"
  faketime -f "+365d" vitest run --reporter=default --reporter=json --outputFile="$out/node-future.json" || status=1
  count_json "$out/node-future.json" "node +1 year"
else
  echo "faketime is missing or does not shift Node's clock (shift: ${shift_s}s); install the 'faketime' package" >&2
  failed=$((failed + 1)); status=1
fi

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
