// ClearSignal's browser snippet: the public API (window.clearsignal) and start-up.
// The add-ons (signals.js, link.js) talk to this API only; the on-demand piece
// (more.js) to its core_ too.

import { start, tick } from './capture.js'
import { decide, receipt } from './consent.js'
import { record } from './events.js'
import { safe } from './log.js'
import { checkUrl } from './pages.js'
import { core } from './pieces.js'
import { flush } from './transport.js'

// A second copy of the tag does nothing.
if (!window.clearsignal) {
  window.clearsignal = {
    consent: decide,
    // No purposes: neither analytics nor personalization.
    optOut: (noticeVersion) => decide(0, noticeVersion),
    // props as given (none when null): the server refuses an event whose props break
    // its bounds (docs/api.md), and keeps the rest of the batch.
    track: safe((name, props) => record('custom', { name, props: props || undefined })),
    receipt,
    core_: core,
  }
  safe(start)()
  // Every second: send what is queued, look for a CMP, and check the URL once more.
  setInterval(
    safe(() => {
      flush()
      tick()
      checkUrl()
    }),
    1000,
  )
}
