#!/usr/bin/env bash
# Installs everything Foresight needs on Debian/Ubuntu with Node 20: the X desktop pieces the
# agent and its tests drive (Xvfb, openbox, mousepad, xterm, xdotool) and the npm packages.
# Run it again at any time: what is already installed is left alone (a second run takes about
# a second). FORESIGHT_SKIP_APT=1 skips the Debian packages (tests of this script use it).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${FORESIGHT_SKIP_APT:-0}" != 1 ]; then
  packages=(xvfb xauth openbox xcompmgr mousepad xterm xdotool x11-utils x11-xserver-utils imagemagick fonts-dejavu-core fonts-wqy-microhei python3 python3-onnx chromium)
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

# onnxruntime-node's install step (node_modules/onnxruntime-node/script/install.js) reads
# ONNXRUNTIME_NODE_INSTALL: "skip" installs nothing more; unset, on linux-x64 it downloads the
# CUDA 12 and TensorRT providers from nuget.org (Microsoft.ML.OnnxRuntime.Gpu.Linux), GPU or not,
# and fails `npm ci` when nuget.org cannot be reached. So the choice is made here: the CUDA 12
# providers where an NVIDIA GPU is and nuget.org answers, else skip (the CPU provider is built in
# either way). A value the user exported wins. `foresight models doctor` tells a GPU user who
# skipped it how to get it later.
nvidia_gpu() {
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then
    echo "$(nvidia-smi -L 2>/dev/null | head -n 1)"
    return 0
  fi
  [ -e /dev/nvidia0 ] && { echo /dev/nvidia0; return 0; }
  return 1
}

nuget_reachable() {
  # Behind a proxy only onnxruntime's script (global-agent) knows the way: let it try.
  [ -n "${GLOBAL_AGENT_HTTPS_PROXY:-}${HTTPS_PROXY:-}${https_proxy:-}" ] && return 0
  node -e '
    const req = require("node:https").get("https://api.nuget.org/v3/index.json", { timeout: 10000 }, (res) => process.exit(res.statusCode === 200 ? 0 : 1));
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => process.exit(1));
  ' 2>/dev/null
}

# Prints the value and, on stderr, why.
choose_ort_install() {
  if [ -n "${ONNXRUNTIME_NODE_INSTALL:-}" ]; then
    echo "onnxruntime-node: ONNXRUNTIME_NODE_INSTALL=$ONNXRUNTIME_NODE_INSTALL (yours)." >&2
    echo "$ONNXRUNTIME_NODE_INSTALL"
    return
  fi
  if [ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]; then
    # Nothing to download elsewhere: DirectML and CoreML ship in the package.
    echo skip
    return
  fi
  local gpu
  if ! gpu="$(nvidia_gpu)"; then
    echo "onnxruntime-node: no NVIDIA GPU (no working nvidia-smi, no /dev/nvidia0): CPU provider only." >&2
    echo skip
    return
  fi
  if ! nuget_reachable; then
    echo "onnxruntime-node: NVIDIA GPU found ($gpu), but api.nuget.org cannot be reached: CPU provider only for now; later run ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node" >&2
    echo skip
    return
  fi
  echo "onnxruntime-node: NVIDIA GPU found ($gpu): installing the CUDA 12 and TensorRT providers (a download from nuget.org)." >&2
  echo cuda12
}

# What `npm ci` would install here: the lock file and .npmrc (their sha256), onnxruntime-node's
# install choice, and the Node ABI, platform and architecture the native addons
# (better-sqlite3, uiohook-napi, …) are built for.
install_stamp() {
  ORT_INSTALL="$1" node -e '
    const { createHash } = require("node:crypto");
    const { readFileSync } = require("node:fs");
    const h = createHash("sha256");
    for (const f of ["package-lock.json", ".npmrc"]) {
      let bytes;
      try { bytes = readFileSync(f); } catch { bytes = Buffer.from("(none)"); }
      h.update(`${f}\0${bytes.length}\0`).update(bytes);
    }
    console.log(`lock+npmrc sha256 ${h.digest("hex")}, onnxruntime-node-install ${process.env.ORT_INSTALL}, node abi ${process.versions.modules}, ${process.platform}-${process.arch}`);
  '
}

# `npm ci` deletes node_modules and rebuilds it (about 2 minutes, most of it compiling SQLite for
# better-sqlite3), so it runs only when the installed packages may differ from the lock file: the
# stamp is written after a successful `npm ci`, inside node_modules (deleting node_modules, or a
# failed `npm ci`, removes it). electron is an optional dependency: its binary cannot be
# downloaded everywhere, and the agent core, the store and the tests run in plain Node without it.
install_npm_packages() {
  local stamp_file=node_modules/.foresight-install-stamp want ort ours=0
  [ -z "${ONNXRUNTIME_NODE_INSTALL:-}" ] && ours=1
  ort="$(choose_ort_install)"
  want="$(install_stamp "$ort")"
  if [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$want" ]; then
    echo "npm packages already match package-lock.json ($want): skipping npm ci."
    return
  fi
  if ! ONNXRUNTIME_NODE_INSTALL="$ort" npm ci --no-audit --no-fund; then
    # Only a choice made here is taken back; a value the user exported stands, and fails.
    [ "$ort" = cuda12 ] && [ "$ours" = 1 ] || return 1
    # A download that broke half-way should not leave the user with nothing: install without it.
    echo "npm ci failed while fetching onnxruntime's CUDA provider; installing with the CPU provider only (later: ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node)." >&2
    ort=skip
    want="$(install_stamp "$ort")"
    ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
  fi
  mkdir -p node_modules
  printf '%s\n' "$want" >"$stamp_file"
}

install_npm_packages

# The renderer's production build (renderer/dist/, served by the app), unless it was made from
# today's sources (build/build-renderer.mjs keeps a content stamp). A project without a
# renderer (the install script's own test) has nothing to build.
if [ -d renderer ]; then node build/build-renderer.mjs; fi
