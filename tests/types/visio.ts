// Visio's front end (suitenumerique/meet, src/frontend/src/features/rooms/livekit/) as it
// would read with this package in place of @livekit/track-processors, its Canvas2D Firefox
// processor and RnnNoiseProcessor: the same types and calls, no adapter. Type-checked by
// tests/node/types.test.mjs with Visio's compiler settings against livekit-client 2.21
// (Visio's version) and the latest 2.x. Never run.
import {
  createLocalVideoTrack,
  type LocalAudioTrack,
  type LocalVideoTrack,
  type Room,
  Track,
  type TrackProcessor,
  type ProcessorOptions,
  VideoPresets,
} from 'livekit-client'
import { BackgroundProcessor, NoiseSuppressionProcessor } from 'visio-media-effects'

// --- components/blur/index.ts -----------------------------------------------------------------

export type FaceLandmarksOptions = {
  showGlasses: boolean
  showFrench: boolean
}

export enum ProcessorType {
  BLUR = 'blur',
  VIRTUAL = 'virtual',
  FACE_LANDMARKS = 'faceLandmarks',
}

export type ProcessorConfig =
  | { type: ProcessorType.BLUR; blurRadius: number }
  | { type: ProcessorType.VIRTUAL; imagePath: string; fileId?: string }
  | ({ type: ProcessorType.FACE_LANDMARKS } & FaceLandmarksOptions)

export interface BackgroundProcessorInterface extends TrackProcessor<Track.Kind> {
  update(opts: ProcessorConfig): Promise<void>
  options: ProcessorConfig
}

export class BackgroundProcessorFactory {
  static isSupported() {
    return BackgroundProcessor.isSupported()
  }

  static getProcessor(
    config: ProcessorConfig
  ): BackgroundProcessorInterface | undefined {
    const isBlur = config.type === ProcessorType.BLUR
    const isVirtual = config.type === ProcessorType.VIRTUAL

    if (!isBlur && !isVirtual) return undefined

    return new BackgroundProcessor(config)
  }

  static fromProcessorConfig(data?: ProcessorConfig) {
    if (data) {
      return BackgroundProcessorFactory.getProcessor(data)
    }
    return undefined
  }
}

// --- components/effects/EffectsConfiguration.tsx (toggleEffect) ------------------------------

export async function toggleEffect(
  videoTrack: LocalVideoTrack,
  config: ProcessorConfig,
  wasSelectedBeforeToggle: boolean
) {
  const processor = videoTrack?.getProcessor() as BackgroundProcessorInterface
  if (wasSelectedBeforeToggle) {
    await videoTrack.stopProcessor()
  } else if (!processor || processor.options.type !== config.type) {
    const newProcessor = BackgroundProcessorFactory.getProcessor(config)!
    await videoTrack.setProcessor(newProcessor)
  } else {
    await processor?.update(config)
  }
}

// --- hooks/useJoinTracks.ts, settings/components/tabs/VideoTab.tsx, Conference.tsx -----------

export function createVideo(videoDeviceId: string, processorConfig?: ProcessorConfig) {
  return createLocalVideoTrack({
    deviceId: videoDeviceId,
    processor: BackgroundProcessorFactory.fromProcessorConfig(processorConfig),
  })
}

export async function changeResolution(
  videoTrack: LocalVideoTrack,
  videoDeviceId: string,
  processorConfig?: ProcessorConfig
) {
  await videoTrack.restartTrack({
    resolution: VideoPresets.h720.resolution,
    deviceId: { exact: videoDeviceId },
    processor: BackgroundProcessorFactory.fromProcessorConfig(processorConfig),
  })
}

export async function enableCamera(room: Room, processorConfig: ProcessorConfig) {
  await room.localParticipant.setCameraEnabled(true, {
    processor: BackgroundProcessorFactory.getProcessor(processorConfig),
  })
}

// --- processors/RnnNoiseProcessor.ts, hooks/useNoiseReduction.ts -----------------------------

export interface AudioProcessorInterface extends TrackProcessor<Track.Kind.Audio> {
  name: string
}

export function noiseReduction(audioTrack: LocalAudioTrack, enabled: boolean) {
  const processor = audioTrack.getProcessor()
  if (enabled && !processor) {
    const noiseProcessor: AudioProcessorInterface = new NoiseSuppressionProcessor()
    audioTrack.setProcessor(noiseProcessor)
  } else if (!enabled && processor) {
    audioTrack.stopProcessor()
  }
}

// A processor used by hand, the way RnnNoiseProcessor is initialised (no audioContext).
export async function initByHand(track: MediaStreamTrack) {
  const opts: ProcessorOptions<Track.Kind.Audio> = { kind: Track.Kind.Audio, track }
  const processor: TrackProcessor<Track.Kind.Audio> = new NoiseSuppressionProcessor()
  await processor.init(opts)
  await processor.destroy()
}

// --- what the types must still refuse ----------------------------------------------------------

export function refused(track: LocalVideoTrack) {
  // @ts-expect-error blurRadius is a number
  new BackgroundProcessor({ type: 'blur', blurRadius: '10' })
  // @ts-expect-error faceLandmarks is not an effect of this package's constructor
  new BackgroundProcessor({ type: 'faceLandmarks', showGlasses: true, showFrench: false })
  // @ts-expect-error an audio processor on a video track
  void track.setProcessor(new NoiseSuppressionProcessor())
  // @ts-expect-error our own shape keeps its checks in update()
  void new BackgroundProcessor().update({ mode: 'sepia' })
}
