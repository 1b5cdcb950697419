#!/usr/bin/env bash
# The demo's HTML report in a real browser: installs Debian's chromium if missing, builds the
# report of a finished demo (or runs the demo first), checks that it is built within 5 s, loads it
# in headless Chromium and checks that every image loads and decodes and that the console has no
# error (scripts/check_report_browser.py, Python standard library only), proves those checks fail
# on a copy with one corrupted image and on one with a console error, and keeps a full-page
# screenshot as a test artefact.
#
#   scripts/test-report-browser.sh BIN [DEMO_DIR]     # BIN: the release tessera binary
#
# Artefacts: .build/test-artifacts/report-demo.png (whole page), report-demo-mosaics.png (the
# crop the README shows) and report-demo.html. Exit 0 when every check passes.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:?usage: scripts/test-report-browser.sh BIN [DEMO_DIR]}"
demo="${2:-}"
artifacts=.build/test-artifacts
mkdir -p "$artifacts"

if ! command -v chromium >/dev/null 2>&1; then
  echo "report-browser: installing chromium"
  SUDO=""; if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
command -v chromium >/dev/null 2>&1 || { echo "FAIL chromium is not installed and could not be installed"; exit 1; }

if [ -z "$demo" ]; then
  work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
  demo="$work/demo"
  # shellcheck source=/dev/null
  source mpi_configs/workstation.env
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  mpirun -np 2 --oversubscribe "$bin" demo --out "$demo" >"$artifacts/report-demo.log" 2>&1 || { echo "FAIL demo"; cat "$artifacts/report-demo.log"; exit 1; }
fi

# The report again, timed (the demo already wrote one at its end).
start=$(date +%s%N)
"$bin" report "$demo/sample" --truth "$demo/mock/truth.fits" | tee "$artifacts/report-demo-build.txt"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
seconds=$(printf "%d.%03d" $((ms / 1000)) $((ms % 1000)))
status=0
if [ "$ms" -le 5000 ]; then echo "ok   demo report built in ${seconds} s (limit 5 s)"
else echo "FAIL demo report took ${seconds} s (limit 5 s)"; status=1; fi
cp "$demo/sample/report.html" "$artifacts/report-demo.html"

python3 scripts/check_report_browser.py "$demo/sample/report.html" --self-test \
  --screenshot "$artifacts/report-demo.png" --crop mosaics --crop-out "$artifacts/report-demo-mosaics.png" || status=1
[ -s "$artifacts/report-demo.png" ] && echo "ok   screenshot kept: $artifacts/report-demo.png" || { echo "FAIL no screenshot"; status=1; }
exit $status
