// ClearSignal's browser snippet: the public API (window.clearsignal) and start-up.

import { endpoint, site } from './config.js'
import { start, tick } from './capture.js'
import { checkCmp } from './cmp.js'
import { decide, receipt, signals } from './consent.js'
import { record } from './events.js'
import { safe } from './log.js'

// A second copy of the tag does nothing.
if (!window.clearsignal) {
  window.clearsignal = {
    consent: decide,
    optOut: (noticeVersion) => decide({}, noticeVersion),
    // Custom event props: at most 20, values strings, finite numbers or booleans.
    track: safe((name, props = {}) =>
      record(
        'custom',
        Object.fromEntries(
          Object.entries(props)
            .filter(([, value]) => Number.isFinite(value) || /^[sb][^iy]/.test(typeof value))
            .slice(0, 20),
        ),
        0,
        '' + name,
      ),
    ),
    receipt,
    signals,
    explainUrl: () => endpoint + '/me?site=' + site,
  }
  const everySecond = safe(() => tick(checkCmp()))
  safe(start)()
  everySecond()
  setInterval(everySecond, 1e3)
}
