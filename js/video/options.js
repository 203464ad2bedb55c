// Background effect options: checked (one clear TypeError/RangeError per mistake), and turned
// into the renderer's setting (loading the image of image mode).

import { PREFIX, describe, checkObject } from '../checks.js';

const MAX_RADIUS = 100; // src/video MAX_RADIUS
const DEFAULT_RADIUS = 10;
const MAX_IMAGE_SIDE = 1920; // larger backgrounds are scaled down once, on load
const MODES = ['blur', 'image', 'none'];
/** @livekit/track-processors' mode names, accepted for a drop-in switch. */
const LIVEKIT_MODES = { 'background-blur': 'blur', 'virtual-background': 'image', disabled: 'none' };
const RENDERERS = ['auto', 'webgl2', 'cpu'];

function checkRadius(value) {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new TypeError(`${PREFIX}: blurRadius must be a number of pixels, got ${describe(value)}`);
  }
  if (!(value > 0 && value <= MAX_RADIUS)) {
    throw new RangeError(`${PREFIX}: blurRadius must be > 0 and <= ${MAX_RADIUS} (pixels at 720p; 10 light, 20 normal), got ${value}`);
  }
  return value;
}

function isImageSource(value) {
  return typeof value === 'string' || value instanceof URL
    || (typeof Blob === 'function' && value instanceof Blob)
    || (typeof ImageBitmap === 'function' && value instanceof ImageBitmap)
    || (typeof ImageData === 'function' && value instanceof ImageData)
    || (typeof HTMLImageElement === 'function' && value instanceof HTMLImageElement)
    || (typeof HTMLCanvasElement === 'function' && value instanceof HTMLCanvasElement)
    || (typeof OffscreenCanvas === 'function' && value instanceof OffscreenCanvas)
    || (typeof VideoFrame === 'function' && value instanceof VideoFrame);
}

function checkImage(value, name) {
  if (!isImageSource(value)) {
    throw new TypeError(`${PREFIX}: ${name} must be an image URL, a Blob, an ImageBitmap, an <img>, a canvas or ImageData, got ${describe(value)}`);
  }
  return value;
}

/**
 * The effect settings in `options` (ours, or Visio's `{ type: 'blur', blurRadius }` /
 * `{ type: 'virtual', imagePath }` / `{ type: 'none' }`), checked; absent keys left out.
 */
export function checkEffect(options) {
  const effect = {};
  if (options.type !== undefined) {
    const mode = { blur: 'blur', virtual: 'image', image: 'image', none: 'none' }[options.type];
    // An app's config union may hold effects of its own (Visio's 'faceLandmarks').
    if (!mode) throw new TypeError(`${PREFIX}: unknown effect type ${describe(options.type)}: background effects are 'blur', 'virtual' (an image) or 'none'`);
    effect.mode = mode;
  }
  if (options.mode !== undefined) {
    const mode = LIVEKIT_MODES[options.mode] ?? options.mode;
    if (!MODES.includes(mode)) throw new TypeError(`${PREFIX}: mode must be 'blur', 'image' or 'none', got ${describe(options.mode)}`);
    if (effect.mode && effect.mode !== mode) throw new TypeError(`${PREFIX}: type ${describe(options.type)} contradicts mode ${describe(options.mode)}`);
    effect.mode = mode;
  }
  if (options.blurRadius !== undefined) effect.blurRadius = checkRadius(options.blurRadius);
  if (options.image !== undefined) effect.image = checkImage(options.image, 'image');
  else if (options.imagePath !== undefined) effect.image = checkImage(options.imagePath, 'imagePath');
  if (effect.image !== undefined && effect.mode === undefined) effect.mode = 'image';
  return effect;
}

/** Everything blurBackground / BackgroundProcessor accept, checked, with defaults. */
export function checkOptions(options, what) {
  const o = checkObject(options, what);
  const effect = { mode: 'blur', blurRadius: DEFAULT_RADIUS, image: undefined, ...checkEffect(o) };
  if (effect.mode === 'image' && effect.image === undefined) {
    throw new TypeError(`${PREFIX}: mode 'image' needs an image (or imagePath)`);
  }
  const renderer = o.renderer ?? 'auto';
  if (!RENDERERS.includes(renderer)) throw new TypeError(`${PREFIX}: renderer must be 'auto', 'webgl2' or 'cpu', got ${describe(renderer)}`);
  for (const name of ['modelUrl']) {
    if (o[name] !== undefined && typeof o[name] !== 'string' && !(o[name] instanceof URL)) {
      throw new TypeError(`${PREFIX}: ${name} must be a URL or a string, got ${describe(o[name])}`);
    }
  }
  if (o.wasm !== undefined && !(o.wasm instanceof WebAssembly.Module) && typeof o.wasm !== 'string' && !(o.wasm instanceof URL)) {
    throw new TypeError(`${PREFIX}: wasm must be a URL, a string or a WebAssembly.Module, got ${describe(o.wasm)}`);
  }
  return { effect, renderer, modelUrl: o.modelUrl, wasm: o.wasm };
}

export function checkVideoTrack(track, who) {
  if (!track || typeof track.kind !== 'string' || typeof track.getSettings !== 'function') {
    throw new TypeError(`${PREFIX}: ${who} needs a video MediaStreamTrack, got ${describe(track)}`);
  }
  if (track.kind !== 'video') throw new TypeError(`${PREFIX}: ${who} needs a video MediaStreamTrack, got a ${track.kind} track`);
  if (track.readyState === 'ended') throw new Error(`${PREFIX}: ${who} was given a track that has ended`);
}

export function baseUrl() {
  return globalThis.document?.baseURI ?? globalThis.location?.href;
}

/**
 * blob: and data: URLs (Visio's uploaded backgrounds are blob: URLs) load through an <img>,
 * which CSP's img-src governs; fetch() would need connect-src to allow blob: / data: too.
 */
function isLocalImageUrl(source) {
  return typeof HTMLImageElement === 'function' && /^(blob|data):/i.test(String(source));
}

function imageElement(source) {
  const image = new Image();
  image.src = String(source);
  return image.decode().then(() => image, () => {
    throw new Error(`${String(source).slice(0, 64)} is not an image this browser can decode (or the page's img-src does not allow it)`);
  });
}

/** The image as an ImageBitmap of our own (at most MAX_IMAGE_SIDE on a side). */
async function loadImage(source) {
  let bitmapSource = source;
  try {
    if ((typeof source === 'string' || source instanceof URL) && isLocalImageUrl(source)) {
      bitmapSource = await imageElement(source);
    } else if (typeof source === 'string' || source instanceof URL) {
      const url = new URL(source, baseUrl());
      const response = await fetch(url);
      if (!response.ok) throw new Error(`status ${response.status} for ${url}`);
      bitmapSource = await response.blob();
    } else if (typeof HTMLImageElement === 'function' && source instanceof HTMLImageElement) {
      await source.decode();
    }
    const bitmap = await createImageBitmap(bitmapSource);
    const scale = MAX_IMAGE_SIDE / Math.max(bitmap.width, bitmap.height);
    if (scale >= 1) return bitmap;
    const resized = await createImageBitmap(bitmap, {
      resizeWidth: Math.round(bitmap.width * scale),
      resizeHeight: Math.round(bitmap.height * scale),
      resizeQuality: 'high',
    });
    bitmap.close();
    return resized;
  } catch (error) {
    throw new Error(`${PREFIX}: could not load the background image: ${error?.message ?? error}`, { cause: error });
  }
}

/** The renderer setting for an effect; loads the image for image mode. */
export async function toSetting(effect) {
  if (effect.mode === 'none') return { mode: 'none' };
  if (effect.mode === 'blur') return { mode: 'blur', radius: effect.blurRadius };
  return { mode: 'image', image: await loadImage(effect.image) };
}
