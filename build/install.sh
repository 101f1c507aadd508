#!/usr/bin/env bash
# Installs everything Foresight needs on Debian/Ubuntu with Node 20: the X desktop pieces the
# agent and its tests drive (Xvfb, openbox, mousepad, xterm, xdotool) and the npm packages.
# Run it again at any time: what is already installed is left alone (a second run takes about
# a second). FORESIGHT_SKIP_APT=1 skips the Debian packages (tests of this script use it).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${FORESIGHT_SKIP_APT:-0}" != 1 ]; then
  packages=(xvfb xauth openbox xcompmgr mousepad xterm xdotool x11-utils x11-xserver-utils imagemagick fonts-dejavu-core python3 chromium)
  # One dpkg-query for all of them (a package it does not know is missing too).
  installed="$(dpkg-query -W -f='${Package} ${Status}\n' "${packages[@]}" 2>/dev/null | awk '/ install ok installed$/ { print $1 }' || true)"
  missing=()
  for p in "${packages[@]}"; do
    grep -qx -- "$p" <<<"$installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    echo "Installing Debian packages: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi

node_major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
if [ "$node_major" -lt 20 ]; then
  echo "Foresight needs Node.js 20 or newer (found: $(node -v 2>/dev/null || echo none))." >&2
  exit 1
fi

# What `npm ci` would install here: the lock file and .npmrc (their sha256), and the Node ABI,
# platform and architecture the native addons (better-sqlite3, uiohook-napi, …) are built for.
install_stamp() {
  node -e '
    const { createHash } = require("node:crypto");
    const { readFileSync } = require("node:fs");
    const h = createHash("sha256");
    for (const f of ["package-lock.json", ".npmrc"]) {
      let bytes;
      try { bytes = readFileSync(f); } catch { bytes = Buffer.from("(none)"); }
      h.update(`${f}\0${bytes.length}\0`).update(bytes);
    }
    console.log(`lock+npmrc sha256 ${h.digest("hex")}, node abi ${process.versions.modules}, ${process.platform}-${process.arch}`);
  '
}

# `npm ci` deletes node_modules and rebuilds it (about 2 minutes, most of it compiling SQLite for
# better-sqlite3), so it runs only when the installed packages may differ from the lock file: the
# stamp is written after a successful `npm ci`, inside node_modules (deleting node_modules, or a
# failed `npm ci`, removes it). electron is an optional dependency: its binary cannot be
# downloaded everywhere, and the agent core, the store and the tests run in plain Node without it.
install_npm_packages() {
  local stamp_file=node_modules/.foresight-install-stamp want
  want="$(install_stamp)"
  if [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$want" ]; then
    echo "npm packages already match package-lock.json ($want): skipping npm ci."
    return
  fi
  npm ci --no-audit --no-fund
  mkdir -p node_modules
  printf '%s\n' "$want" >"$stamp_file"
}

install_npm_packages

# The renderer's production build (renderer/dist/, served by the app), unless it was made from
# today's sources (build/build-renderer.mjs keeps a content stamp). A project without a
# renderer (the install script's own test) has nothing to build.
if [ -d renderer ]; then node build/build-renderer.mjs; fi
