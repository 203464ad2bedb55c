// The wasm-bindgen step, shared by the package build (build.mjs) and the test build of the
// trap test (debug-trap-package.mjs), so both glues are made the same way.
//
// --experimental-reset-state-function: the glue exports __wbg_reset_state(), which replaces a
// trapped instance with a fresh one from the same compiled module (js/video/wasm-trap.js);
// without it the glue instantiates once per thread and a trap would be permanent.
export function bindgenArgs(wasm, outDir, outName) {
  return [wasm, '--target', 'web', '--experimental-reset-state-function', '--out-dir', outDir, '--out-name', outName];
}
