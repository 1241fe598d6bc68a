#!/usr/bin/env bash
# CI: build the packaged app in a temporary folder, check what is in it, run the frozen
# --self-test offscreen, time its start, print sizes and times, remove the build.
# Fails on any failure. Called by .ci/run after `make test` (so .venv exists).
#
#   packaging/ci_package_check.sh                      # the default (CUDA-capable) bundle
#   DIGIT_LAB_CPU_ONLY=1 packaging/ci_package_check.sh # the lean CPU-only bundle
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export QT_QPA_PLATFORM=offscreen

WORK=$(mktemp -d "${TMPDIR:-/tmp}/digit-lab-package.XXXXXX")
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
export DIST="$WORK/dist" BUILD="$WORK/build"
BUNDLE="$DIST/digit-lab"
LOG="$WORK/build.log"

echo "== package: building into $WORK (DIGIT_LAB_CPU_ONLY=${DIGIT_LAB_CPU_ONLY:-0}; log kept quiet)"
start=$(date +%s)
if ! make package >"$LOG" 2>&1; then
  echo "== package: BUILD FAILED; last lines of the PyInstaller log:"
  tail -n 60 "$LOG"
  exit 1
fi
build_s=$(( $(date +%s) - start ))
grep -E "digit-lab.spec:|WARNING: Hidden import \"torchvision" "$LOG" || true
echo "== package: built in ${build_s} s"

echo "== package: contents"
"$PY" packaging/inspect_bundle.py "$BUNDLE"

echo "== package: frozen self-test"
start=$(date +%s)
"$BUNDLE/digit-lab" --self-test
selftest_s=$(( $(date +%s) - start ))

echo "== package: frozen --version and a CLI command"
"$BUNDLE/digit-lab" --version
"$BUNDLE/digit-lab" loss --list-pairs >/dev/null

echo "== package: start to main window shown"
"$PY" packaging/startup_time.py --exe "$BUNDLE/digit-lab" --runs 2

size=$(du -sh "$BUNDLE" | cut -f1)
echo "== package: OK: bundle ${size}, build ${build_s} s, frozen self-test ${selftest_s} s"
