#!/usr/bin/env bash
# Install the system libraries Tessera links against (Debian/Ubuntu) and build the release binary.
#
#   scripts/setup.sh            # as root, or with sudo available
#
# Safe to run again: apt skips what is installed, SwiftPM rebuilds only what changed.
# Result: .build/release/tessera
set -euo pipefail
cd "$(dirname "$0")/.."

# libpng-dev: report pictures (PNG). jq and iproute2: scripts/test-multihost.sh (JSON checks; network-namespace test hosts).
packages=(libopenmpi-dev openmpi-bin libhdf5-openmpi-dev libcfitsio-dev libopenblas-dev liblapacke-dev libpng-dev hdf5-tools pkg-config jq iproute2)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: system packages already installed"
fi

# The parallel HDF5 build must be the one found (the plain `hdf5` name may point at the serial one).
pkg-config --exists ompi-c hdf5-openmpi cfitsio openblas libpng || {
  echo "setup: pkg-config cannot find ompi-c, hdf5-openmpi, cfitsio, openblas or libpng" >&2; exit 1; }

if ! command -v swift >/dev/null 2>&1; then
  echo "setup: Swift 6 is required (swift.org toolchain on PATH)" >&2; exit 1
fi

echo "setup: building release binary"
swift build -c release --product tessera
echo "setup: done: $(swift build -c release --show-bin-path)/tessera"
