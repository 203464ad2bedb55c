// visio-media-effects: the package's public entry. One export line per capability.
export {
  createNoiseSuppressorNode,
  suppressNoise,
  NoiseSuppressionProcessor,
  VadEvent,
  NoiseSuppressionErrorEvent,
} from './noise-suppression.js';
export { loadWasmModule } from './wasm.js';
export { blurBackground, BackgroundProcessor } from './video/background.js';
