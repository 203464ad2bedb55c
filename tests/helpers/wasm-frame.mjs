// A frame into the video wasm the one way frames enter it (src/wasm/frame.rs): a wasm
// FrameInput's buffer, written through a view, then described. For the Node tests and benches
// that drive the wasm-bindgen classes directly (the package does it in js/video/frame-input.js).

/**
 * Writes `rgba` (`height` rows of `stride` bytes) into `input` (default: a new
 * `glue.FrameInput`) and describes it as an RGBA picture; returns the FrameInput.
 * @param {{ FrameInput: Function }} glue the wasm-bindgen module
 * @param {WebAssembly.Memory} memory its memory
 */
export function rgbaInput(glue, memory, rgba, width, height, stride = 4 * width, input = new glue.FrameInput()) {
  input.reserve(rgba.length); // may grow memory: the view comes after
  new Uint8Array(memory.buffer, input.framePtr(), rgba.length).set(rgba);
  input.describe('RGBA', width, height, Uint32Array.of(0, stride), '', true);
  return input;
}
