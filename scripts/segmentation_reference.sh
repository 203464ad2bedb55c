#!/usr/bin/env bash
# Regenerates tests/fixtures/segmentation/ (inputs, MediaPipe reference masks, and the model
# copies with metadata) from MediaPipe's own runtime. Needs Python 3.11 and PyPI; CI does not run
# this - it only uses the committed files. Two venvs: tflite-support and mediapipe pin
# incompatible protobuf versions.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${TMPDIR:-/tmp}/segmentation-reference"
models="$root/node_modules/@mediapipe/selfie_segmentation"
out="$root/tests/fixtures/segmentation"
[ -f "$models/selfie_segmentation.tflite" ] || { echo "run npm install first" >&2; exit 1; }
mkdir -p "$work"
[ -x "$work/meta/bin/python" ] || { python3 -m venv "$work/meta" && "$work/meta/bin/pip" install -q tflite-support==0.4.4; }
[ -x "$work/mp/bin/python" ] || { python3 -m venv "$work/mp" && "$work/mp/bin/pip" install -q mediapipe==0.10.21 scikit-image==0.26.0 pillow==13.0.0 matplotlib==3.11.2; }
"$work/mp/bin/python" "$root/fuzz/make_seeds.py" "$out"
"$work/meta/bin/python" "$root/scripts/segmentation_metadata.py" "$models" "$work/models" "$out/tiny.tflite"
mkdir -p "$out/with_metadata"
cp "$work/models/selfie_segmentation"*.tflite "$out/with_metadata/"
"$work/mp/bin/python" "$root/scripts/segmentation_reference.py" "$work/models" "$out"
