// Analytics decisions taken in a site's consent management platform
// (personalization is ClearSignal's own question: clearsignal.consent). Called
// every second: CMPs load late and change on a visitor's action.

import { fromCmp } from './consent.js'
import { safe } from './log.js'

let scanned = 0 // dataLayer entries read so far
let listening // to the TCF API

export const checkCmp = () => {
  // Google Consent Mode: gtag('consent', 'update', {...}) entries in dataLayer
  // ('default' entries are the site's defaults, not a visitor's decision).
  const layer = window.dataLayer
  while (scanned < layer?.length) {
    const entry = layer[scanned++]
    const state = entry?.[2]
    entry?.[0] == 'consent' &&
      entry[1] == 'update' &&
      state?.analytics_storage &&
      fromCmp(state.analytics_storage == 'granted', null, state)
  }
  // IAB TCF v2: purposes 1 (store/access information) and 8 (measure content).
  listening ||=
    window.__tcfapi &&
    (__tcfapi(
      'addEventListener',
      2,
      safe(
        (data, ok) =>
          ok &&
          data.gdprApplies &&
          data.eventStatus != 'cmpuishown' &&
          fromCmp(data.purpose.consents[1] && data.purpose.consents[8], data.tcString, null),
      ),
    ),
    1)
}
