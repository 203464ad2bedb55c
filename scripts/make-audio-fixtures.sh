#!/usr/bin/env bash
# Generates tests/fixtures/speech.wav: English and French sentences spoken by espeak-ng,
# separated by true digital silence, 48 kHz mono 16-bit, speech at about -20 dBFS RMS.
# The WAV is committed, so the tests need neither espeak-ng nor sox; rerun this only to
# change the fixture (espeak-ng and sox are Debian packages).
set -euo pipefail
cd "$(dirname "$0")/.."
out=tests/fixtures/speech.wav
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# voice|sentence. espeak-ng speaks at 22.05 kHz, so the fixture has no energy above ~11 kHz;
# RNNoise's bands go to 20 kHz, but speech above 11 kHz carries little of its features.
sentences=(
  "en-us|Good morning everyone, can you hear me?"
  "fr|Bonjour à tous, je vous entends très bien."
  "en-us+f3|Let us start the meeting."
)

gap=0.8     # seconds of silence between sentences (and half of it at both ends)
parts=()
i=0
for s in "${sentences[@]}"; do
  voice=${s%%|*}; text=${s#*|}
  espeak-ng -v "$voice" -s 175 -w "$tmp/raw$i.wav" "$text"
  # Trim espeak's own leading/trailing near-silence so the gaps below are exact, then 48 kHz.
  sox "$tmp/raw$i.wav" -D -b 32 -e floating-point "$tmp/s$i.wav" \
    silence 1 0.005 0.05% reverse silence 1 0.005 0.05% reverse rate -v 48000
  parts+=("$tmp/s$i.wav")
  i=$((i + 1))
done

# RMS over the speech alone (no gaps) decides the gain to -20 dBFS.
sox "${parts[@]}" "$tmp/speech-only.wav"
rms_db=$(sox "$tmp/speech-only.wav" -n stats 2>&1 | awk '/^RMS lev dB/ {print $4}')
gain=$(awk -v r="$rms_db" 'BEGIN { printf "%.2f", -20 - r }')

# Assemble: half gap, sentence, gap, sentence, ..., half gap. Silence is exact zeros (-D: no dither).
sox -n -r 48000 -c 1 -b 32 -e floating-point "$tmp/gap.wav" trim 0 "$gap"
sox -n -r 48000 -c 1 -b 32 -e floating-point "$tmp/half.wav" trim 0 "$(awk -v g="$gap" 'BEGIN { print g / 2 }')"
seq=("$tmp/half.wav")
for p in "${parts[@]}"; do seq+=("$p" "$tmp/gap.wav"); done
seq[${#seq[@]}-1]="$tmp/half.wav"
sox "${seq[@]}" -D -b 16 -e signed-integer "$out" gain "$gain"

soxi "$out" | grep -E 'Duration|Sample Rate|Precision'
sox "$out" -n stats 2>&1 | grep -E 'Pk lev|RMS lev'
echo "speech RMS before gain: ${rms_db} dBFS, gain ${gain} dB"
