// Image measurements for the video tests, on RGBA frames (Uint8Array/Uint8ClampedArray) of a
// known size and the scene's exact person alpha (tests/helpers/video-scene.mjs).

/** Luma (BT.601 weights, 0..255) of an RGBA frame. */
export function luma(rgba, width, height) {
  const y = new Float32Array(width * height);
  for (let i = 0; i < y.length; i++) y[i] = 0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2];
  return y;
}

/** Pixels farther than `distance` px (Chebyshev) from any pixel where `inside(i)` holds. */
function awayFrom(inside, width, height, distance) {
  // Two-pass chamfer distance transform (chessboard metric), exact for Chebyshev distance.
  const d = new Float32Array(width * height);
  for (let i = 0; i < d.length; i++) d[i] = inside(i) ? 0 : Infinity;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      for (const [dx, dy] of [[-1, 0], [-1, -1], [0, -1], [1, -1]]) {
        const xx = x + dx, yy = y + dy;
        if (xx >= 0 && xx < width && yy >= 0) d[i] = Math.min(d[i], d[yy * width + xx] + 1);
      }
    }
  }
  for (let y = height - 1; y >= 0; y--) {
    for (let x = width - 1; x >= 0; x--) {
      const i = y * width + x;
      for (const [dx, dy] of [[1, 0], [1, 1], [0, 1], [-1, 1]]) {
        const xx = x + dx, yy = y + dy;
        if (xx >= 0 && xx < width && yy < height) d[i] = Math.min(d[i], d[yy * width + xx] + 1);
      }
    }
  }
  return d;
}

/**
 * Regions from the person alpha: `background` = at least `margin` px from any person pixel
 * (alpha > 0.01), `person` = at least `margin` px inside (from any pixel with alpha < 0.99),
 * `ring(from, to)` = background pixels between `from` and `to` px from the person.
 */
export function regions(alpha, width, height, margin = 8) {
  const fromPerson = awayFrom((i) => alpha[i] > 0.01, width, height);
  const fromBackground = awayFrom((i) => alpha[i] < 0.99, width, height);
  const mask = (test) => Uint8Array.from(alpha, (_, i) => (test(i) ? 1 : 0));
  return {
    background: mask((i) => fromPerson[i] > margin),
    person: mask((i) => fromBackground[i] > margin),
    ring: (from, to) => mask((i) => fromPerson[i] >= from && fromPerson[i] <= to),
  };
}

/** Mean squared 4-neighbour Laplacian of luma over the pixels of `region` (borders skipped). */
export function highFrequencyEnergy(rgba, width, height, region) {
  const y = luma(rgba, width, height);
  let sum = 0;
  let n = 0;
  for (let r = 1; r < height - 1; r++) {
    for (let c = 1; c < width - 1; c++) {
      const i = r * width + c;
      if (!region[i]) continue;
      const lap = 4 * y[i] - y[i - 1] - y[i + 1] - y[i - width] - y[i + width];
      sum += lap * lap;
      n++;
    }
  }
  return sum / n;
}

/**
 * Mean SSIM of the luma of `a` and `b` over the pixels of `region` (7x7 box windows, the
 * usual constants for 8-bit images; each region pixel scores the window centred on it).
 */
export function ssim(a, b, width, height, region) {
  const x = luma(a, width, height);
  const y = luma(b, width, height);
  const C1 = (0.01 * 255) ** 2;
  const C2 = (0.03 * 255) ** 2;
  const R = 3;
  let total = 0;
  let n = 0;
  for (let r = R; r < height - R; r++) {
    for (let c = R; c < width - R; c++) {
      if (!region[r * width + c]) continue;
      let sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
      for (let dr = -R; dr <= R; dr++) {
        for (let dc = -R; dc <= R; dc++) {
          const i = (r + dr) * width + c + dc;
          sx += x[i]; sy += y[i]; sxx += x[i] * x[i]; syy += y[i] * y[i]; sxy += x[i] * y[i];
        }
      }
      const k = (2 * R + 1) ** 2;
      const mx = sx / k, my = sy / k;
      const vx = sxx / k - mx * mx, vy = syy / k - my * my, cxy = sxy / k - mx * my;
      total += ((2 * mx * my + C1) * (2 * cxy + C2)) / ((mx * mx + my * my + C1) * (vx + vy + C2));
      n++;
    }
  }
  return total / n;
}

/** Euclidean RGB distances to `colour` of the pixels of `region`, sorted ascending. */
export function colourDistances(rgba, region, colour) {
  const out = [];
  for (let i = 0; i < region.length; i++) {
    if (!region[i]) continue;
    const dr = rgba[4 * i] - colour[0], dg = rgba[4 * i + 1] - colour[1], db = rgba[4 * i + 2] - colour[2];
    out.push(Math.sqrt(dr * dr + dg * dg + db * db));
  }
  return out.sort((p, q) => p - q);
}

/** The q-quantile (0..1) of an ascending array. */
export function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** Mean absolute difference per channel between two RGBA frames over `region`. */
export function meanAbsDiff(a, b, region) {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < region.length; i++) {
    if (!region[i]) continue;
    for (let c = 0; c < 3; c++) sum += Math.abs(a[4 * i + c] - b[4 * i + c]);
    n += 3;
  }
  return sum / n;
}

/**
 * A plain Gaussian blur (sigma px, clamped edges) of an RGBA frame: what a naive background
 * blur that ignores the mask would produce, to show the halo test can fail.
 */
export function gaussianBlur(rgba, width, height, sigma) {
  const r = Math.ceil(3 * sigma);
  const k = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const s = k.reduce((p, q) => p + q, 0);
  const taps = k.map((v) => v / s);
  const pass = (src, horizontal) => {
    const dst = new Float32Array(src.length);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        for (let c = 0; c < 3; c++) {
          let acc = 0;
          for (let t = -r; t <= r; t++) {
            const xx = horizontal ? Math.min(width - 1, Math.max(0, x + t)) : x;
            const yy = horizontal ? y : Math.min(height - 1, Math.max(0, y + t));
            acc += taps[t + r] * src[4 * (yy * width + xx) + c];
          }
          dst[4 * (y * width + x) + c] = acc;
        }
        dst[4 * (y * width + x) + 3] = 255;
      }
    }
    return dst;
  };
  return pass(pass(rgba, true), false);
}

/**
 * Blocks of a `tw x th` thumbnail (of a `width x height` frame) lying entirely inside the
 * person (alpha > 0.99 on every pixel): where a black or grey flash would show.
 */
export function personBlocks(alpha, width, height, tw, th) {
  const bw = width / tw;
  const bh = height / th;
  const blocks = new Uint8Array(tw * th);
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      let min = 1;
      for (let yy = Math.floor(y * bh); yy < Math.floor((y + 1) * bh); yy++) {
        for (let xx = Math.floor(x * bw); xx < Math.floor((x + 1) * bw); xx++) min = Math.min(min, alpha[yy * width + xx]);
      }
      blocks[y * tw + x] = min > 0.99 ? 1 : 0;
    }
  }
  return blocks;
}
