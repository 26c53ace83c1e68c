#!/usr/bin/env bash
# Package checks (`npm run check:package`): what a new user gets.
#  1. `npm pack` contents (scripts/check-pack.mjs).
#  2. The packed tarball installed into a fresh program with the peer
#     dependencies at the tested versions: one copy of @pulumi/pulumi, the
#     program type-checks (node10 and node16 module resolution), runs Host
#     under pulumi-gvisor/testing's mocks with the step scripts read from the
#     installed package, and the multi-language schema derives from the
#     installed package directory as the plugin runner does it.
#  3. The committed HEAD installed from git (prepare builds dist/).
#  4. API reference: `npm run docs` (fails on an undocumented export).
# Needs the npm registry (or a warm npm cache). Prints one line per check.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/gv-package-XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { printf 'check:package: %s\n' "$*" >&2; exit 1; }

npm run -s build >/dev/null || fail "build failed: run npm run build"
node scripts/check-pack.mjs || fail "npm pack contents are wrong (see above)"

tarball=$(npm pack --ignore-scripts --silent --pack-destination "$work") || fail "npm pack failed"
node scripts/consumer-program.mjs "$work/consumer" "$work/$tarball" || fail "could not write the consumer program"
(cd "$work/consumer" && npm install --no-audit --no-fund --prefer-offline --loglevel=error >install.log 2>&1) ||
  { cat "$work/consumer/install.log" >&2; fail "npm install of the packed tarball failed"; }
copies=$(find "$work/consumer/node_modules" -path '*/@pulumi/pulumi/package.json' | wc -l)
[ "$copies" -eq 1 ] || fail "the consumer has $copies copies of @pulumi/pulumi, expected 1 (peer dependencies?)"
tsc="$work/consumer/node_modules/.bin/tsc"
(cd "$work/consumer" && "$tsc" -p tsconfig.json && "$tsc" -p tsconfig.node16.json) || fail "the consumer program does not type-check against the installed package"
(cd "$work/consumer" && node dist/index.js) || fail "the consumer program failed against the installed package"
echo "installed tarball: one @pulumi/pulumi, type-checks (node10, node16), runs, schema derives"

# From git, as `npm install <git URL>` does it: a clone of this commit, its dev
# dependencies installed and `prepare` run by npm, so dist/ exists in the copy.
if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  echo "git install: skipped (uncommitted changes: the check installs the committed HEAD)"
else
  mkdir "$work/from-git"
  printf '{"name":"from-git","private":true}\n' >"$work/from-git/package.json"
  (cd "$work/from-git" && npm install --no-audit --no-fund --prefer-offline --loglevel=error "git+file://$root#$(git -C "$root" rev-parse HEAD)" >install.log 2>&1) ||
    { cat "$work/from-git/install.log" >&2; fail "npm install from git failed"; }
  (cd "$work/from-git" && node -e 'require("pulumi-gvisor"); require("pulumi-gvisor/testing")') ||
    fail "the package installed from git has no working dist/ (prepare did not build it?)"
  echo "git install: prepare built dist/; pulumi-gvisor and pulumi-gvisor/testing load"
fi

npm run -s docs >"$work/docs.log" 2>&1 || { cat "$work/docs.log" >&2; fail "npm run docs failed (an export without a doc comment?)"; }
echo "docs: API reference generated in docs/api"
cd "$root"
