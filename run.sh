#!/usr/bin/env bash
# Starts SecureMailbox on its embedded defaults, on this machine only:
#   gateway  SMTP on 127.0.0.1:2525 (point your mail server's smarthost here)
#   portal   http://127.0.0.1:5000
#   data     ./data: SQLite database, vault folder per region, spool, queue,
#            pickup folder of outgoing mail (data/pickup), dev SMS outbox (data/sms-outbox)
# Ctrl+C stops both.
set -euo pipefail
cd "$(dirname "$0")"
export SECUREMAILBOX_Vault__DataDirectory="${SECUREMAILBOX_Vault__DataDirectory:-$PWD/data}"
mkdir -p "$SECUREMAILBOX_Vault__DataDirectory" "$SECUREMAILBOX_Vault__DataDirectory/pickup" "$SECUREMAILBOX_Vault__DataDirectory/sms-outbox"

dotnet build SecureMailbox.sln -c Release --verbosity quiet -nologo

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

dotnet gateway/bin/Release/net10.0/SecureMailbox.Gateway.dll &
pids+=($!)
dotnet portal/bin/Release/net10.0/SecureMailbox.Portal.dll --contentRoot "$PWD/portal" --urls http://127.0.0.1:5000 &
pids+=($!)

echo "SecureMailbox: SMTP 127.0.0.1:2525, portal http://127.0.0.1:5000, data in $SECUREMAILBOX_Vault__DataDirectory"
wait -n "${pids[@]}"
