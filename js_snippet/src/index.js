// ClearSignal's browser snippet: the public API (window.clearsignal) and start-up.
// The optional add-on (signals.js) talks to this API only.

import { start, tick } from './capture.js'
import { checkCmp } from './cmp.js'
import { decide, receipt } from './consent.js'
import { record } from './events.js'
import { safe } from './log.js'
import { flush } from './transport.js'

// A second copy of the tag does nothing.
if (!window.clearsignal) {
  window.clearsignal = {
    consent: decide,
    // No purposes: neither analytics nor personalization.
    optOut: (noticeVersion) => decide(0, noticeVersion),
    // props as given: the server refuses an event whose props break its bounds
    // (docs/api.md), and keeps the rest of the batch.
    track: safe((name, props) => record('custom', props, 0, name)),
    receipt,
  }
  safe(start)()
  // Every second: send what is queued, the URL and engaged time, the CMPs.
  setInterval(
    safe(() => {
      flush()
      tick()
      checkCmp()
    }),
    1e3,
  )
}
