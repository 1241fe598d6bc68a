#!/usr/bin/env bash
# CI: build the packaged app in a temporary folder, check what is in it, run the frozen
# --self-test offscreen, download MNIST with the frozen app from a mirror on 127.0.0.1 and train,
# evaluate and classify with it, time its start, print sizes and times, remove the build.
# Fails on any failure. Called by .ci/run after `make test`.
#
#   packaging/ci_package_check.sh              # the CPU flavour (what CI runs), <= 700 MiB
#   FLAVOUR=full packaging/ci_package_check.sh # the full (CUDA) flavour: 4 GiB, not run by CI
#
# CPU_VENV=... reuses a CPU build environment (default .venv-cpu, made by `make package-cpu`).
set -euo pipefail
cd "$(dirname "$0")/.."
export QT_QPA_PLATFORM=offscreen
FLAVOUR=${FLAVOUR:-cpu}
case "$FLAVOUR" in
  cpu) TARGET=package-cpu; PY=${CPU_VENV:-.venv-cpu}/bin/python; LIMIT=(--max-mib 700) ;;
  full) TARGET=package; PY=.venv/bin/python; LIMIT=() ;;
  *) echo "error: FLAVOUR must be cpu or full, not '$FLAVOUR'" >&2; exit 2 ;;
esac

WORK=$(mktemp -d "${TMPDIR:-/tmp}/digit-lab-package.XXXXXX")
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
export DIST="$WORK/dist" BUILD="$WORK/build"
# The frozen app's own files (current model, settings) go here, never to the user's folder.
export DIGIT_LAB_DATA_DIR="$WORK/user-data"
BUNDLE="$DIST/digit-lab"
APP="$BUNDLE/digit-lab"
LOG="$WORK/build.log"

echo "== package: building the $FLAVOUR flavour (make $TARGET) into $WORK (log kept quiet)"
start=$(date +%s)
if ! make "$TARGET" ${CPU_VENV:+CPU_VENV="$CPU_VENV"} >"$LOG" 2>&1; then
  echo "== package: BUILD FAILED; last lines of the log:"
  tail -n 60 "$LOG"
  exit 1
fi
build_s=$(( $(date +%s) - start ))
grep -E "digit-lab.spec:|WARNING: Hidden import \"torchvision" "$LOG" || true
echo "== package: built in ${build_s} s (load: $(cut -d' ' -f1-3 /proc/loadavg))"

echo "== package: contents"
"$PY" packaging/inspect_bundle.py "$BUNDLE" "${LIMIT[@]}"

echo "== package: frozen self-test"
start=$(date +%s)
"$APP" --self-test | tee "$WORK/selftest.txt"
selftest_s=$(( $(date +%s) - start ))
if [ ! -d "$BUNDLE/_internal/torchvision" ] && ! grep -q "^SKIP  torchvision .*needs torchvision" "$WORK/selftest.txt"; then
  echo "== package: FAILED: no torchvision in the bundle, but the self-test did not say it skipped that check"
  exit 1
fi

echo "== package: frozen --version and CLI commands"
"$APP" --version
"$APP" loss --list-pairs >/dev/null

echo "== package: Download MNIST with the frozen app, from a mirror on 127.0.0.1"
"$PY" packaging/mnist_mirror.py "$WORK/mirror" --url-file "$WORK/mirror.url" 2>"$WORK/mirror.log" &
SERVER_PID=$!
for _ in $(seq 120); do [ -s "$WORK/mirror.url" ] && break; sleep 0.5; done
[ -s "$WORK/mirror.url" ] || { echo "the mirror did not start:"; cat "$WORK/mirror.log"; exit 1; }
MIRROR=$(cat "$WORK/mirror.url")
DIGIT_LAB_MNIST_MIRROR="$MIRROR" NO_PROXY="127.0.0.1,localhost" \
  "$APP" download --data-dir "$WORK/mnist" 2>&1 | tee "$WORK/download.txt"
grep -q "6,000 train / 1,000 test" "$WORK/download.txt"
served=$(grep -c '"GET /[a-z0-9-]*-ubyte.gz HTTP/1.1" 200' "$WORK/mirror.log" || true)
[ "$served" -eq 4 ] || { echo "the mirror served $served of 4 files:"; cat "$WORK/mirror.log"; exit 1; }
echo "the mirror served all 4 files"

echo "== package: train, evaluate and classify on the downloaded digits (frozen)"
"$APP" train --model cnn --epochs 1 --dataset mnist --data-dir "$WORK/mnist" \
  --out "$WORK/cnn.pt" 2>&1 | tee "$WORK/train.txt"
grep -q "data: MNIST (6,000 train / 1,000 test)" "$WORK/train.txt"
"$APP" evaluate --model "$WORK/cnn.pt" --dataset mnist --data-dir "$WORK/mnist" 2>&1 \
  | tee "$WORK/evaluate.txt" | tail -n 3
"$PY" -c "import sys; from PIL import Image; from core.data.mnist import load_sample
Image.fromarray(load_sample().test_images[0].numpy()).save(sys.argv[1])" "$WORK/digit.png"
"$APP" classify "$WORK/digit.png" --model "$WORK/cnn.pt" 2>&1 | tee "$WORK/classify.txt"
# A frozen command that "works" but printed a traceback (a module left out, a lazy import of
# something missing) is a failure too.
if grep -l "Traceback (most recent call last)" "$WORK"/*.txt; then
  echo "== package: FAILED: a frozen command printed a traceback (files above)"
  exit 1
fi

echo "== package: start to main window shown"
"$PY" packaging/startup_time.py --exe "$APP" --runs 2

size=$(du -sh "$BUNDLE" | cut -f1)
tar -czf "$WORK/digit-lab.tar.gz" -C "$DIST" digit-lab
archive=$(du -sh "$WORK/digit-lab.tar.gz" | cut -f1)
echo "== package: OK: $FLAVOUR flavour ${size} (tar.gz ${archive}), build ${build_s} s, frozen self-test ${selftest_s} s"
