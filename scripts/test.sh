#!/usr/bin/env bash
# The whole test suite, as CI runs it: lint + format check, type check, build, then unit,
# integration (real control plane, moto, Pulumi engine) and end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"

echo "== lint and format (biome)"
biome check .
echo "== type check"
tsc -p tsconfig.json --noEmit
echo "== build"
tsc -p tsconfig.build.json && chmod +x dist/cli.js

results=$(mktemp -d)
status=0
for project in unit integration e2e; do
  echo "== $project tests"
  vitest run --project "$project" --reporter=default --reporter=json --outputFile="$results/$project.json" || status=1
done
node -e '
  const fs = require("node:fs");
  let passed = 0, failed = 0, skipped = 0;
  for (const f of fs.readdirSync(process.argv[1])) {
    const r = JSON.parse(fs.readFileSync(process.argv[1] + "/" + f, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + r.numTodoTests;
  }
  console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
' "$results"
exit $status
