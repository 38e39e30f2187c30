#!/usr/bin/env bash
# The test command (`npm test`): type-check, prepare the real test infrastructure (Debian packages,
# dockerd, the test images: idempotent, needs root on a fresh machine), then run every test file:
# pure renderers and settings, component mocks, real binaries, and end to end on the real engine.
# TEST_FILES="a.test.ts b.test.ts" runs a subset.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS

echo "== type-check (tsc --noEmit, strict)"
npx --no-install tsc --noEmit -p tsconfig.json
npx --no-install tsc --noEmit -p tsconfig.test.json
echo "   $((SECONDS - t0)) s"

echo "== test infrastructure"
t1=$SECONDS
bash test/e2e/infra/setup.sh
echo "   $((SECONDS - t1)) s"

echo "== the Pulumi engine (scripts/engine.sh: the CLI at engine/go.mod's version, cached)"
t1=$SECONDS
bin=$(PULUMI_ENGINE=build bash scripts/engine.sh)
echo "   $((SECONDS - t1)) s"
# The dev and e2e engine tests run the project folder through the language host when it is beside
# the CLI (as a bare `pulumi up` does), inline otherwise; PRIVATE_REGISTRY_PROGRAM=inline forces inline.
if [ "${PRIVATE_REGISTRY_PROGRAM:-}" = inline ]; then
  program="program: inline (PRIVATE_REGISTRY_PROGRAM=inline)"
elif [ -x "$bin/pulumi-language-nodejs" ]; then
  program="program: language host ($bin/pulumi-language-nodejs) for the dev and e2e stacks"
else
  program="program: inline (no pulumi-language-nodejs beside $bin: npm run providers -- <a pulumi/pulumi copy> builds it)"
fi
echo "   $program"

echo "== provider plugins (test/engine/plugins.ts: real where built by \`npm run providers\`, else the stand-ins)"
providers=$(node --import tsx test/engine/plugins.ts --verbose)
echo "$providers" | sed 's/^/   /'

echo "== tests"
mkdir -p build
if [ -n "${TEST_FILES:-}" ]; then
  read -r -a files <<<"$TEST_FILES"
else
  mapfile -t files < <(find test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
fi
# Every test's scratch files (stack folders, fake hosts' logs, archives) go under one directory,
# removed after the run, or kept for inspection when a test failed: a passing run leaves nothing.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/pr-test-XXXXXX")
export TMPDIR="$scratch"
status=0
node --import tsx --test --test-concurrency=1 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination=build/tests.tap \
  "${files[@]}" || status=$?

pass=$(grep -E '^# pass ' build/tests.tap | tail -n1 | awk '{print $3}')
fail=$(grep -E '^# fail ' build/tests.tap | tail -n1 | awk '{print $3}')
skip=$(grep -E '^# skipped ' build/tests.tap | tail -n1 | awk '{print $3}')
cancelled=$(grep -E '^# cancelled ' build/tests.tap | tail -n1 | awk '{print $3}')
echo "== ${#files[@]} test files in $((SECONDS - t0)) s"
echo "$providers" | head -n 1
echo "$program"
# Tests cancelled because their suite's hook failed are not failures in the runner's count: say them.
echo "${pass:-0} passed, ${fail:-0} failed, ${cancelled:-0} cancelled, ${skip:-0} skipped"
left=$(find "$scratch" -mindepth 1 -maxdepth 1 | wc -l)
if [ "$status" -ne 0 ]; then
  echo "FAILED (the test runner exited $status; a failed before/after hook shows as cancelled tests above)"
  echo "scratch kept for inspection: $scratch ($left entries)"
else
  rm -rf "$scratch"
  echo "scratch: the tests left $left entries in $scratch, removed"
fi
exit "$status"
