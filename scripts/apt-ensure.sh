#!/usr/bin/env bash
# Installs Debian packages for commands the tests need, only when a command is missing.
# Usage: scripts/apt-ensure.sh command:package [command:package ...]
set -euo pipefail
missing=()
for pair in "$@"; do
  cmd="${pair%%:*}"
  pkg="${pair#*:}"
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
echo "installing Debian packages: ${missing[*]}"
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
