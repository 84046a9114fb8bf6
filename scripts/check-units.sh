#!/usr/bin/env bash
# CI gate for the shipped systemd units (security goal G24): the system unit must score an exposure
# of 2.0 or lower in `systemd-analyze security --offline=yes`, and the units the installer renders
# must pass `systemd-analyze verify`. Works in a container without systemd as PID 1; installs
# systemd's tools itself on Debian/Ubuntu when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

# Threshold in systemd's internal units (exposure x 10): 20 = 2.0.
THRESHOLD=20
# The unit to score (default: the shipped system unit).
UNIT="${1:-systemd/aicfg.service}"

need_install=()
command -v systemd-analyze >/dev/null 2>&1 || need_install+=(systemd)
# ExecReload= runs /bin/kill (procps); `verify` checks that it exists.
[ -x /bin/kill ] || need_install+=(procps)
if [ "${#need_install[@]}" -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "check-units: missing ${need_install[*]} and no apt-get to install them" >&2
    exit 2
  fi
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "=== installing ${need_install[*]} (for systemd-analyze) ==="
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_install[@]}" >/dev/null
fi
systemd-analyze --version | head -n 1

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/system" "$work/user" "$work/runtime"
chmod 700 "$work/runtime"

status=0

echo "=== systemd-analyze security --offline=yes --threshold=$THRESHOLD $UNIT ==="
if out="$(systemd-analyze security --offline=yes --threshold="$THRESHOLD" --no-pager "$UNIT" 2>&1)"; then rc=0; else rc=$?; fi
score_line="$(printf '%s\n' "$out" | grep -F 'Overall exposure level' || true)"
if [ -z "$score_line" ]; then
  printf '%s\n' "$out" >&2
  echo "check-units: FAIL: no exposure score printed" >&2
  status=1
else
  echo "$score_line"
  if [ "$rc" -ne 0 ]; then
    printf '%s\n' "$out" | grep -F '✗' >&2 || true
    echo "check-units: FAIL: exposure above $THRESHOLD/10 (exit $rc)" >&2
    status=1
  fi
fi

echo "=== (for information) the user unit's score; most sandboxing is unavailable to per-user managers ==="
XDG_RUNTIME_DIR="$work/runtime" systemd-analyze --user security --offline=yes --no-pager systemd/aicfg-user.service 2>&1 | grep -F 'Overall exposure level' || true

# `verify` needs the ExecStart= binary to exist, so check the units the installer renders with the
# real runtime and bin/aicfg.js (a test keeps systemd/*.service identical to the same renderer).
render() {
  node bin/aicfg.js service install "$@" --dry-run --json |
    node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>process.stdout.write(JSON.parse(s).unit))'
}
render --system --library /srv/aicfg/library >"$work/system/aicfg.service"
render --user --library "$PWD" >"$work/user/aicfg.service"

echo "=== systemd-analyze verify (system unit as rendered by 'aicfg service install --system') ==="
if ! systemd-analyze verify --no-pager "$work/system/aicfg.service"; then
  echo "check-units: FAIL: system unit does not verify" >&2
  status=1
fi
echo "=== systemd-analyze --user verify (user unit as rendered by 'aicfg service install --user') ==="
if ! XDG_RUNTIME_DIR="$work/runtime" systemd-analyze --user verify --no-pager "$work/user/aicfg.service"; then
  echo "check-units: FAIL: user unit does not verify" >&2
  status=1
fi
echo "=== the rendered system unit scores the same ==="
systemd-analyze security --offline=yes --threshold="$THRESHOLD" --no-pager "$work/system/aicfg.service" | grep -F 'Overall exposure level' || status=1

[ "$status" -eq 0 ] && echo "check-units: OK"
exit "$status"
