#!/usr/bin/env bash
# Fuzzes a model loader (needs a nightly toolchain and `cargo install cargo-fuzz`).
#   tflite_loader (default): seeds are the minimised corpus kept in fuzz/corpus/tflite_loader
#     (tiny all-operator models and what the fuzzer found worth keeping) plus the two real
#     models from node_modules.
#   dfn_weights: the DeepFilterNet3 weight reader and networks; seeded with the real weight
#     file (node scripts/dfn3-model.mjs makes it).
# Usage: fuzz/run.sh [SECONDS] [TARGET]   (default 600 s, tflite_loader)
set -euo pipefail
cd "$(dirname "$0")"
target="${2:-tflite_loader}"
corpus="corpus/$target"
mkdir -p "$corpus"
extra=()
case "$target" in
  tflite_loader) cp ../node_modules/@mediapipe/selfie_segmentation/selfie_segmentation*.tflite "$corpus/" ;;
  dfn_weights) cp ../target/dfn3/deepfilternet3.dfw "$corpus/"; extra=(-max_len=5000000) ;;
esac
cargo +nightly fuzz run -O "$target" "$corpus" -- \
  -max_total_time="${1:-600}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "${extra[@]}"
