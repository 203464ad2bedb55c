// Camera background effects for the page, the public API: blurBackground() on a
// MediaStreamTrack, and BackgroundProcessor, a livekit-client video TrackProcessor.
// Options are checked in options.js; paths.js picks the frame I/O path (protocol.js PATH) and
// starts the engine on it; the per-frame work is in pipeline.js.

import { PREFIX, checkObject } from '../checks.js';
import { releaseSourceElement } from './livekit-element.js';
import { checkEffect, checkOptions, checkVideoTrack, toSetting } from './options.js';
import { isSupported, startEngine } from './paths.js';

/**
 * The live effect of an engine: serialises updates (an image may take a while to load; the
 * latest update wins) and remembers the effect for restarts.
 */
class EffectState {
  effect;
  #engine = null;
  #generation = 0;

  constructor(effect) {
    this.effect = effect;
  }

  attach(engine) {
    this.#engine = engine;
  }

  /**
   * Validates, then applies; resolves once the effect is in place. Bad options reject
   * before anything changes, so the running effect goes on as it was.
   */
  update(options, what) {
    let effect;
    try {
      effect = { ...this.effect, ...checkEffect(checkObject(options, what)) };
      // Visio's blur config carries no image: switching back to blur keeps the last one.
      if (effect.mode === 'image' && effect.image === undefined) {
        throw new TypeError(`${PREFIX}: mode 'image' needs an image (or imagePath)`);
      }
    } catch (error) {
      error.message += '; the current effect is unchanged';
      return Promise.reject(error);
    }
    this.effect = effect;
    const generation = ++this.#generation;
    const engine = this.#engine;
    if (!engine) return Promise.resolve();
    return toSetting(effect).then((setting) => {
      if (generation !== this.#generation || engine !== this.#engine) {
        if (setting.mode === 'image') setting.image.close(); // overtaken by a later update
        return;
      }
      engine.setBackground(setting);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Public API.

/**
 * Blurs (or replaces) the background of a camera track; see index.d.ts for the contract.
 */
export async function blurBackground(track, options) {
  checkVideoTrack(track, 'blurBackground');
  const opts = checkOptions(options, 'blurBackground');
  const state = new EffectState(opts.effect);
  const engine = await startEngine(track, opts);
  state.attach(engine);
  let destroyed = null;
  return {
    track: engine.track,
    update: (settings) => state.update(settings, 'update'),
    stats: () => engine.stats(),
    destroy() {
      destroyed ??= engine.destroy().then(() => { state.attach(null); });
      return destroyed;
    },
  };
}

/**
 * Background effects as a livekit-client 2.x video `TrackProcessor`; see index.d.ts.
 */
export class BackgroundProcessor {
  name = 'visio-background';
  /** The processed track livekit publishes; undefined until init() and after destroy(). */
  processedTrack = undefined;
  #options;
  /** The configuration last given, in the app's own shape (returned by `options`). */
  #config;
  #state;
  #engine = null;
  #final = null;
  #generation = 0;
  /** livekit's element and the track it plays, from the last init(): destroy() stops it. */
  #source = null;

  constructor(options) {
    this.#options = checkOptions(options, 'BackgroundProcessor');
    this.#config = { ...options };
    this.#state = new EffectState(this.#options.effect);
  }

  static isSupported() {
    return isSupported();
  }

  async init({ kind, track, element } = {}) {
    if (kind !== undefined && kind !== 'video') {
      throw new TypeError(`${PREFIX}: BackgroundProcessor is a video processor, it was set on a ${kind} track`);
    }
    checkVideoTrack(track, 'BackgroundProcessor');
    if (this.#engine) await this.#stop();
    this.#source = { element, track };
    const generation = ++this.#generation;
    const engine = await startEngine(track, { ...this.#options, effect: this.#state.effect });
    if (generation !== this.#generation) {
      await engine.destroy(); // destroy() or another init() ran meanwhile
      return;
    }
    this.#engine = engine;
    this.#state.attach(engine);
    this.processedTrack = engine.track;
  }

  async restart(options) {
    await this.#stop(); // livekit has just given the element the new track: it stays playing
    await this.init(options);
  }

  async destroy() {
    releaseSourceElement(this.#source?.element, this.#source?.track);
    this.#source = null;
    await this.#stop();
  }

  async #stop() {
    this.#generation++;
    const engine = this.#engine;
    this.#engine = null;
    this.#state.attach(null);
    this.processedTrack = undefined;
    if (engine) this.#final = await engine.destroy();
  }

  /**
   * Changes the effect live (ours or Visio's config shape); kept for later inits. Throws
   * TypeError/RangeError on bad options; resolves once the new effect is in place.
   */
  update(options) {
    const before = this.#state.effect;
    const done = this.#state.update(options, 'update');
    if (this.#state.effect !== before) {
      // Accepted. A config naming its effect (Visio's `type`, our `mode`, an image) replaces
      // the last one, as Visio's own processors did; a partial change merges into it.
      const replaces = ['type', 'mode', 'image', 'imagePath'].some((key) => options[key] !== undefined);
      this.#config = replaces ? { ...options } : { ...this.#config, ...options };
    }
    return done;
  }

  /** Same as update(), under @livekit/track-processors' name. */
  switchTo(options) {
    return this.update(options);
  }

  /** A new, uninitialised processor with the same options and current effect. */
  clone() {
    const { renderer, modelUrl, wasm } = this.#options;
    return new BackgroundProcessor({ ...this.#config, ...this.#state.effect, renderer, modelUrl, wasm });
  }

  /** The running engine's statistics; after destroy(), the last engine's final ones. */
  stats() {
    return this.#engine?.stats() ?? this.#final;
  }

  /**
   * The configuration last given and the current effect in both vocabularies: Visio's `type`
   * (the app's own when its config has one) and our `mode`, `blurRadius`, `image`.
   */
  get options() {
    const { mode, blurRadius, image } = this.#state.effect;
    return { type: mode === 'image' ? 'virtual' : 'blur', ...this.#config, mode, blurRadius, image };
  }
}
