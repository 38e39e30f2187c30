#!/usr/bin/env bash
# The fast lane (`npm run test:unit`): type-check, then the pure and mock tests: renderers,
# settings, properties, components and the whole program under mocks. No root, no Docker, no
# network, no engine; `npm test` runs these and everything else.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS
# tsconfig.test.json extends tsconfig.json and includes every program file: one pass checks both.
npx --no-install tsc --noEmit -p tsconfig.test.json
# test/scripts/scripts.test.ts runs the user scripts as processes (render, the CLI wrapper): `npm test` has it.
mapfile -t files < <(find test -maxdepth 1 -name '*.test.ts' ! -name 'scripts.test.ts'; find test/components test/settings test/scripts test/stand-ins test/bench -name '*.test.ts' ! -name '*Binary*' ! -name 'scripts.test.ts' | sort)
# Node's default runs one file at a time on two cores (availableParallelism - 1); these files share nothing.
node --import tsx --test --test-concurrency="$(nproc)" --test-reporter=spec "${files[@]}"
echo "== ${#files[@]} unit test files in $((SECONDS - t0)) s"
