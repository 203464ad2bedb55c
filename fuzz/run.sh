#!/usr/bin/env bash
# Fuzzes the TFLite loader (needs a nightly toolchain and `cargo install cargo-fuzz`).
# Seeds: the minimised corpus kept in fuzz/corpus/tflite_loader (tiny all-operator models and
# what the fuzzer found worth keeping) plus the two real models from node_modules.
# Usage: fuzz/run.sh [SECONDS] (default 600)
set -euo pipefail
cd "$(dirname "$0")"
corpus=corpus/tflite_loader
cp ../node_modules/@mediapipe/selfie_segmentation/selfie_segmentation*.tflite "$corpus/"
cargo +nightly fuzz run -O tflite_loader "$corpus" -- \
  -max_total_time="${1:-600}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
