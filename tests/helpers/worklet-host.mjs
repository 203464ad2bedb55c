// A stand-in AudioWorkletGlobalScope for Node: runs the BUILT pkg/noise-suppressor.worklet.js
// the way a browser's audio thread does, so its contract can be tested without a browser.
//
// Each scope is its own node:vm context (its own globals and its own realm, like a real
// AudioWorkletGlobalScope per AudioContext): `registerProcessor`, `sampleRate` and the wasm
// instance the worklet caches at module level are per scope. The wasm module is compiled inside
// the scope's realm, as a structured-cloned module would be in a browser, so `instanceof
// WebAssembly.Module` in the worklet holds.
//
// What is modelled: 128-frame render quanta, `currentTime`/`currentFrame` advancing with them,
// `process(inputs, outputs, parameters)` with fresh zeroed outputs whose channel count follows the
// input (channelCountMode 'clamped-max', channelCount 2, no outputChannelCount), a MessagePort
// whose messages are delivered between quanta, a processor whose process() returned false is
// no longer called (its output is silence, as in Chromium), and an exception thrown by the
// constructor or process() puts the processor in the errored state ('processorerror').
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

export const QUANTUM = 128;
const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const PKG = join(root, 'pkg');
export const WORKLET_PATH = join(PKG, 'noise-suppressor.worklet.js');
export const WASM_PATH = join(PKG, 'visio_media_effects_bg.wasm');
export const PROCESSOR_NAME = 'visio-noise-suppressor';

/** A MessagePort pair end: `onmessage` or `addEventListener('message')`, and `postMessage`. */
class FakePort {
  constructor(deliver) {
    this.onmessage = null;
    this.listeners = [];
    this.deliver = deliver;
  }
  postMessage(data) { this.deliver(data); }
  addEventListener(type, fn) { if (type === 'message') this.listeners.push(fn); }
  removeEventListener(type, fn) { this.listeners = this.listeners.filter((l) => l !== fn); }
  start() {}
  close() {}
  receive(data) {
    const event = { data };
    this.onmessage?.(event);
    for (const l of this.listeners) l(event);
  }
}

/**
 * Creates one AudioWorkletGlobalScope at `sampleRate` and evaluates the worklet file in it.
 * @param {{ sampleRate?: number, workletPath?: string, performance?: boolean }} options
 *   performance: expose `performance.now` in the scope (Firefox does, Chromium may not).
 */
export function createScope({ sampleRate = 48000, workletPath = WORKLET_PATH, performance = false } = {}) {
  const registered = new Map();
  const clock = { frame: 0 };
  let pendingPort = null;

  class AudioWorkletProcessor {
    constructor() {
      if (!pendingPort) throw new TypeError('AudioWorkletProcessor constructed outside of a node');
      this.port = pendingPort;
      pendingPort = null;
    }
  }

  const globals = {
    AudioWorkletProcessor,
    registerProcessor(name, ctor) {
      if (typeof name !== 'string' || name === '') throw new TypeError('registerProcessor: empty name');
      if (registered.has(name)) throw new DOMException(`${name} is already registered`, 'NotSupportedError');
      if (typeof ctor !== 'function') throw new TypeError('registerProcessor: not a constructor');
      registered.set(name, ctor);
    },
    sampleRate,
    console,
  };
  Object.defineProperty(globals, 'currentTime', { get: () => clock.frame / sampleRate, enumerable: true });
  Object.defineProperty(globals, 'currentFrame', { get: () => clock.frame, enumerable: true });
  if (performance) globals.performance = { now: () => globalThis.performance.now() };
  const context = vm.createContext(globals, { name: `AudioWorkletGlobalScope@${sampleRate}` });

  // The worklet is an ES module without imports or exports: evaluated as strict script code,
  // which is what a module without imports is, and which fails to parse if it has an `import`.
  const source = readFileSync(workletPath, 'utf8');
  vm.runInContext(`'use strict';${source}`, context, { filename: workletPath });

  return {
    sampleRate,
    context,
    registered,
    clock,

    /** Compiles wasm bytes into a WebAssembly.Module of this scope's realm. */
    compile(bytes) {
      return vm.runInContext('(bytes) => new WebAssembly.Module(bytes)', context)(bytes);
    },

    /** The package's wasm, compiled in this scope. */
    packageModule() {
      return this.compile(readFileSync(WASM_PATH));
    },

    /**
     * Constructs a processor as `new AudioWorkletNode(ctx, name, { processorOptions })` would.
     * @returns a node: { messages, errors, post(msg), processQuantum(inputChannels), run(...) }
     */
    createNode(processorOptions, name = PROCESSOR_NAME) {
      const Processor = registered.get(name);
      if (!Processor) throw new Error(`no processor registered as ${name}`);
      const node = {
        messages: [],
        errors: [], // 'processorerror' events: exceptions thrown by the constructor or process()
        processor: null,
        active: true, // false once process() returned false or threw
        port: null,
      };
      // Processor -> node messages are recorded; node -> processor messages are delivered
      // at the next quantum boundary (here: immediately, between two process() calls).
      const processorPort = new FakePort((data) => node.messages.push(data));
      node.port = processorPort;
      pendingPort = processorPort;
      try {
        node.processor = new Processor({
          numberOfInputs: 1,
          numberOfOutputs: 1,
          channelCount: 2,
          channelCountMode: 'clamped-max',
          channelInterpretation: 'speakers',
          processorOptions,
        });
      } catch (error) {
        node.errors.push(error);
        node.active = false;
      } finally {
        pendingPort = null;
      }
      node.post = (data) => processorPort.receive(data);
      node.messagesOfType = (type) => node.messages.filter((m) => m.type === type);

      /**
       * Renders one quantum. `input` is an array of 128-sample channels ([] = no input
       * connected, processed as the browser does: zero channels in, one silent channel out).
       * Returns the output channels (fresh arrays).
       */
      node.processQuantum = (input) => {
        const outChannels = Math.max(1, Math.min(2, input.length));
        const output = Array.from({ length: outChannels }, () => new Float32Array(QUANTUM));
        if (node.active) {
          try {
            const keepAlive = node.processor.process([input], [output], {});
            if (keepAlive !== true) node.active = false;
          } catch (error) {
            node.errors.push(error);
            node.active = false;
            for (const ch of output) ch.fill(0);
          }
        }
        clock.frame += QUANTUM;
        return output;
      };

      /**
       * Streams whole channels through the processor in 128-frame quanta (the tail is
       * zero-padded to a whole quantum and the output cut back to the input's length).
       * `events`: [{ at: sampleIndex, message }] posted to the processor before the quantum
       * containing `at` (so at a quantum boundary: use multiples of 128 for exact timing).
       * `onQuantum(index, output)`: optional, called after each quantum.
       * @returns {{ output: Float32Array[], messages: object[] }} messages: all so far
       */
      node.run = (channels, { events = [], onQuantum } = {}) => {
        const length = channels.length ? channels[0].length : 0;
        const quanta = Math.ceil(length / QUANTUM);
        const outCount = Math.max(1, Math.min(2, channels.length));
        const output = Array.from({ length: outCount }, () => new Float32Array(quanta * QUANTUM));
        const pending = [...events].sort((a, b) => a.at - b.at);
        const input = channels.map(() => new Float32Array(QUANTUM));
        for (let q = 0; q < quanta; q++) {
          const start = q * QUANTUM;
          while (pending.length && pending[0].at < start + QUANTUM) node.post(pending.shift().message);
          input.forEach((buf, c) => {
            buf.fill(0);
            buf.set(channels[c].subarray(start, Math.min(length, start + QUANTUM)));
          });
          const out = node.processQuantum(input);
          out.forEach((ch, c) => output[c].set(ch, start));
          onQuantum?.(q, out);
        }
        return { output: output.map((ch) => ch.slice(0, length)), messages: node.messages };
      };
      return node;
    },
  };
}

/**
 * One-shot: a fresh scope at `sampleRate`, one node with the package's module (unless
 * processorOptions.module is given, null included), `channels` streamed through it.
 * @returns {{ output: Float32Array[], messages: object[], node, scope }}
 */
export function runWorklet(channels, { sampleRate = 48000, processorOptions = {}, events, scope } = {}) {
  const s = scope ?? createScope({ sampleRate });
  const options = { enabled: true, attenuationLimitDb: null, vadIntervalMs: 50, ...processorOptions };
  if (!('module' in processorOptions)) options.module = s.packageModule();
  const node = s.createNode(options);
  const { output, messages } = node.run(channels, { events });
  return { output, messages, node, scope: s };
}
