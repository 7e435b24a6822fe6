#!/usr/bin/env bash
# Runs every test of SecureMailbox: NUnit (all test projects) and the add-in's JavaScript tests.
# Installs what the tests need first (Debian packages when run as root, dotnet restore, npm ci).
# Last line: "N passed, N failed[, N skipped]" counted from the real results (TRX files + node's summary).
set -uo pipefail
cd "$(dirname "$0")"
root=$(pwd)
results="$root/artifacts/test-results"
rm -rf "$results"; mkdir -p "$results" "$root/artifacts/screenshots"

bash scripts/install-prerequisites.sh || { echo "test.sh: prerequisites missing (see above)" >&2; exit 2; }

# Node packages first: the add-in's tests and the browser tests of the portal use them.
if [ -f addin/package.json ]; then
  (cd addin && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || { echo "test.sh: npm ci failed" >&2; exit 2; }
fi

dotnet tool restore >/dev/null
dotnet restore SecureMailbox.sln --verbosity quiet || { echo "test.sh: dotnet restore failed" >&2; exit 2; }
dotnet build SecureMailbox.sln --no-restore -c Debug --verbosity quiet -nologo || { echo "test.sh: build failed" >&2; exit 2; }

# NUnit: one TRX per test project. Projects run one after another (2 cores; SMTP/HTTP servers per fixture).
dotnet test SecureMailbox.sln --no-build -c Debug -m:1 \
  --logger "trx;LogFilePrefix=nunit" --logger "console;verbosity=normal" \
  --results-directory "$results" 2>&1 | tee "$results/dotnet-test.log" | grep -E "^\s*(Failed|Passed!|Failed!|Skipped|Total tests|error)|^\s+(Error Message|Stack Trace)" || true

# JavaScript (add-in): node's test runner; its TAP summary is counted.
if [ -f addin/package.json ]; then
  (cd addin && node --test --test-reporter=tap --test-reporter-destination="$results/node.tap" --test-reporter=spec --test-reporter-destination=stdout test/*.test.mjs) 2>&1 | tail -n 40
fi

node scripts/summarize-tests.mjs "$results"
