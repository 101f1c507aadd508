#!/usr/bin/env bash
# Installs everything Foresight needs on Debian/Ubuntu with Node 20: the X desktop pieces the
# agent and its tests drive (Xvfb, openbox, mousepad, xterm, xdotool) and the npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(xvfb xauth openbox xcompmgr mousepad xterm xdotool x11-utils x11-xserver-utils imagemagick fonts-dejavu-core python3 chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "Installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$node_major" -lt 20 ]; then
  echo "Foresight needs Node.js 20 or newer (found: $(node -v 2>/dev/null || echo none))." >&2
  exit 1
fi

# electron is an optional dependency: its binary cannot be downloaded everywhere, and the
# agent core, the store and the tests run in plain Node without it.
npm ci --no-audit --no-fund
