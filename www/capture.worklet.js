// The demo's raw-microphone capture: copies channel 0 of its input until it holds
// `processorOptions.length` samples, then posts them to the page once and stops. Demo code
// only (the package does not need it): the A/B recorder renders this through each model.
class CaptureProcessor extends AudioWorkletProcessor {
  constructor({ processorOptions }) {
    super();
    this.samples = new Float32Array(processorOptions.length);
    this.filled = 0;
  }

  process([input]) {
    // An input with no channel (nothing connected yet) counts as silence: the clip stays in
    // step with the context's clock.
    const block = input[0];
    const n = Math.min(block?.length ?? 128, this.samples.length - this.filled);
    if (block) this.samples.set(block.subarray(0, n), this.filled);
    this.filled += n;
    if (this.filled < this.samples.length) return true;
    this.port.postMessage(this.samples, [this.samples.buffer]);
    return false;
  }
}

registerProcessor('demo-capture', CaptureProcessor);
