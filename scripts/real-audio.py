"""Decoding and metrics for the real-recording quality evaluation (run by the Node side only).

Runs inside the virtual environment that scripts/fetch-real-audio.mjs creates (numpy, scipy,
soundfile with its bundled libsndfile for OGG/Vorbis, pesq, pystoi). Two commands, each
reading one JSON document on stdin and writing one on stdout, so Node makes one call per batch:

  prepare: [{out, seconds, pieces: [{path | zip+member | cat+index, start?, length?}], gap?, loop?}]
           decodes each source, keeps channel 0, resamples to 48 kHz and writes float32 WAV:
           pieces joined with `gap` seconds of silence (speech), or one piece looped with
           50 ms cross-fades to `seconds` (noise).
  metrics: [{reference, degraded}] (48 kHz WAV files, already time-aligned)
           -> [{pesq, stoi}]: PESQ-wb (ITU-T P.862.2, the `pesq` package) and STOI (`pystoi`),
           on 16 kHz (PESQ-wb) and 10 kHz (STOI) copies, the rates they are defined at.
"""

import io
import json
import multiprocessing
import os
import struct
import sys
import zipfile
from math import gcd

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

RATE = 48000
FADE = int(0.05 * RATE)


def resample(x, from_rate, to_rate):
    if from_rate == to_rate:
        return x
    g = gcd(from_rate, to_rate)
    return resample_poly(x, to_rate // g, from_rate // g)


def opensfx_entry(path, index):
    """One RIFF wave from OpenTTD's sound catalogue (opensfx.cat): a table of (offset, size)
    uint32 pairs (offset's top bit is a flag), each entry a length-prefixed name then the RIFF."""
    data = open(path, 'rb').read()
    count = (struct.unpack_from('<I', data, 0)[0] & 0x7FFFFFFF) // 8
    if index >= count:
        raise SystemExit(f'{path}: entry {index} out of {count}')
    offset, size = struct.unpack_from('<II', data, index * 8)
    offset &= 0x7FFFFFFF
    name_length = data[offset]
    return io.BytesIO(data[offset + 1 + name_length:offset + size])


def load(piece):
    if 'cat' in piece:
        source = opensfx_entry(piece['cat'], piece['index'])
    elif 'zip' in piece:
        source = io.BytesIO(zipfile.ZipFile(piece['zip']).read(piece['member']))
    else:
        source = piece['path']
    x, rate = sf.read(source, dtype='float64', always_2d=True)
    x = x[:, 0]
    start = int(piece.get('start', 0) * rate)
    length = piece.get('length')
    x = x[start:start + int(length * rate)] if length else x[start:]
    if len(x) == 0:
        raise SystemExit(f'{piece}: no samples')
    return resample(x, rate, RATE)


def loop_to(x, n):
    """Repeats x with linear 50 ms cross-fades until n samples (noise shorter than speech)."""
    out = x.copy()
    ramp = np.linspace(0, 1, FADE)
    while len(out) < n:
        head = out[-FADE:] * (1 - ramp) + x[:FADE] * ramp
        out = np.concatenate([out[:-FADE], head, x[FADE:]])
    return out[:n]


def prepare(items):
    for item in items:
        pieces = [load(p) for p in item['pieces']]
        if item.get('loop'):
            x = loop_to(pieces[0], int(item['seconds'] * RATE))
        else:
            gap = np.zeros(int(item.get('gap', 0) * RATE))
            x = np.concatenate([np.concatenate([p, gap]) for p in pieces])
        sf.write(item['out'], x.astype(np.float32), RATE, subtype='FLOAT')
    return [{'out': item['out']} for item in items]


def score(job):
    from pesq import pesq
    from pystoi import stoi

    ref, r1 = sf.read(job['reference'], dtype='float64')
    deg, r2 = sf.read(job['degraded'], dtype='float64')
    if r1 != RATE or r2 != RATE:
        raise SystemExit(f'{job}: expected {RATE} Hz')
    n = min(len(ref), len(deg))
    ref, deg = ref[:n], deg[:n]
    # STOI is defined at 10 kHz: resampled here by the same filter as for PESQ.
    return {
        'pesq': float(pesq(16000, resample(ref, RATE, 16000), resample(deg, RATE, 16000), 'wb')),
        'stoi': float(stoi(resample(ref, RATE, 10000), resample(deg, RATE, 10000), 10000, extended=False)),
    }


def metrics(jobs):
    # One process per core: the jobs are independent and each takes ~0.5 s.
    with multiprocessing.Pool(min(len(jobs), os.cpu_count() or 1) or 1) as pool:
        return pool.map(score, jobs)


if __name__ == '__main__':
    command = sys.argv[1] if len(sys.argv) > 1 else ''
    handlers = {'prepare': prepare, 'metrics': metrics}
    if command not in handlers:
        raise SystemExit(f'usage: real-audio.py {"|".join(handlers)} < jobs.json')
    json.dump(handlers[command](json.load(sys.stdin)), sys.stdout)
