// The <video> that livekit-client gives a video processor's init() (`element`; audio
// processors get none). Its setProcessor() plays the camera track in a new muted <video> for
// every processor set, and its stopProcessor() neither pauses that element nor drops its
// stream: each processor set leaves one media player running on the page, and Chromium refuses
// new players past its limit ("too many WebMediaPlayers", README "Soak"), so after about a
// thousand effect toggles in one call no later <video> of the page would play. The processor
// never reads that element (it reads the track); its destroy() stops it, as long as it still
// plays only the track the processor was given (an app that took the element over keeps it).

/** Stops `element` if it plays `track` and nothing else; anything else is left as it is. */
export function releaseSourceElement(element, track) {
  const stream = element?.srcObject;
  if (!track || typeof MediaStream !== 'function' || !(stream instanceof MediaStream)) return;
  const tracks = stream.getTracks();
  if (tracks.length === 0 || tracks.some((t) => t !== track)) return;
  element.pause();
  element.srcObject = null;
}
