// Getting a frame's RGBA pixels into wasm memory, shared by the segmenter and the CPU renderer.
// VideoFrame.copyTo with format 'RGBA' converts in the browser and writes straight into wasm
// memory: at 720p 1.5 ms, against ~6 ms for drawImage on a 2D canvas + getImageData.

/** Whether this browser has VideoFrame.copyTo at all (its RGBA conversion is tried on use). */
export const HAS_COPY_TO = typeof VideoFrame === 'function' && typeof VideoFrame.prototype.copyTo === 'function';

/**
 * Whether `source` is a VideoFrame whose visible pixels are exactly the `width x height`
 * picture (no scaling to a display size, no rotation or flip, which copyTo would not apply).
 */
export function copyable(source, width, height) {
  return HAS_COPY_TO && source instanceof VideoFrame
    && source.visibleRect?.width === width && source.visibleRect?.height === height
    && !source.rotation && !source.flip;
}
