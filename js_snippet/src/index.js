// ClearSignal's browser snippet: the public API (window.clearsignal) and start-up.
// Optional add-ons (cmp.js) talk to this API only.

import { start, tick } from './capture.js'
import { decide, receipt } from './consent.js'
import { record } from './events.js'
import { safe } from './log.js'

// A second copy of the tag does nothing.
if (!window.clearsignal) {
  window.clearsignal = {
    consent: decide,
    optOut: (noticeVersion) => decide({}, noticeVersion),
    // props as given: the server refuses an event whose props break its bounds
    // (docs/api.md), and keeps the rest of the batch.
    track: safe((name, props) => record('custom', props, 0, name)),
    receipt,
  }
  safe(start)()
  setInterval(tick, 1e3)
}
