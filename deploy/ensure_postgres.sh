#!/usr/bin/env bash
# `make test` needs PostgreSQL's server binaries (the state-store and replica tests start
# their own server in a temp folder). Install Debian's package when they are missing.
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing PostgreSQL (Debian package 'postgresql') for the state-store tests"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
