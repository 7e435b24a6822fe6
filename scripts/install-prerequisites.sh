#!/usr/bin/env bash
# Installs the Debian packages the tests talk to: the real `age` tool, Chromium, xmllint, oathtool, PostgreSQL
# (the tests start a private cluster with its initdb/pg_ctl; the package's own cluster is not used).
# As root it installs what is missing; otherwise it names what is missing and fails.
set -u
need=()
command -v age >/dev/null 2>&1 || need+=(age)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v xmllint >/dev/null 2>&1 || need+=(libxml2-utils)
command -v oathtool >/dev/null 2>&1 || need+=(oathtool)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ]; then
  echo "Installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null || {
    echo "apt-get install ${need[*]} failed" >&2; exit 1; }
else
  echo "Missing Debian packages: ${need[*]}. Install them with: sudo apt-get install ${need[*]}" >&2
  exit 1
fi
