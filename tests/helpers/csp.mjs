// The Content-Security-Policy README states as the minimal one for the package (tested in
// tests/browser/csp.test.mjs and on the Vite 8 app build).
export const MINIMAL_CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; img-src 'self' blob: data:";
