// Optional add-on, built to dist/cs-cmp.js: takes the analytics decision from a
// consent management platform (CMP) the site already runs, and records it
// through the main snippet's public API, clearsignal.consent(), with method
// "cmp". A site without a CMP does not load it. Place it after cs.js:
//
//   <script defer data-site="shop" data-notice="3" src="/cs.js"></script>
//   <script defer src="/cs-cmp.js"></script>
//
// It reads Google Consent Mode (gtag('consent', 'update', {...}) entries in
// dataLayer) and the IAB TCF v2 API (__tcfapi), every second: CMPs load late and
// change on a visitor's action. Personalization is ClearSignal's own question,
// asked through clearsignal.consent(). Nothing here throws into the page.

const nav = navigator
const debug = document.querySelector('script[data-site][data-debug]')

let scanned = 0 // dataLayer entries read so far
let listening // to the TCF API

const guarded =
  (fn) =>
  (...args) => {
    try {
      fn(...args)
    } catch (error) {
      debug && console.debug('[clearsignal]', 'error', error)
    }
  }

// Recorded when it differs from the current state: granted while a receipt of a
// grant is kept. Under GPC or DNT a CMP's grant is not taken as explicit: only
// clearsignal.consent() grants then (debug: "[clearsignal] gpc cmp").
const fromCmp = (analytics, tcf, gcm) => {
  const clearsignal = window.clearsignal
  const signal = nav.globalPrivacyControl ? 'gpc' : nav.doNotTrack == 1 ? 'dnt' : ''
  if (!analytics == !clearsignal.receipt()) return
  if (analytics && signal) debug && console.debug('[clearsignal]', signal, 'cmp')
  else clearsignal.consent({ analytics }, undefined, 'cmp', tcf, gcm)
}

const check = guarded(() => {
  if (!window.clearsignal) return // cs.js has not run yet
  // Google Consent Mode: 'update' entries are a visitor's decision ('default'
  // entries are the site's defaults). Only the granted/denied states are kept.
  const layer = window.dataLayer
  while (scanned < layer?.length) {
    // gtag() pushes its arguments object; other entries are plain objects.
    const entry = layer[scanned++]
    const state = entry?.[2]
    if (entry?.[0] == 'consent' && entry[1] == 'update' && state?.analytics_storage)
      fromCmp(
        state.analytics_storage == 'granted',
        undefined,
        Object.fromEntries(
          Object.entries(state).filter(([, value]) => value == 'granted' || value == 'denied'),
        ),
      )
  }
  // IAB TCF v2: purposes 1 (store and access information) and 8 (measure
  // content), once the CMP has loaded a decision or the visitor has made one.
  listening ||=
    typeof __tcfapi == 'function' &&
    (__tcfapi(
      'addEventListener',
      2,
      guarded(
        (data, ok) =>
          ok &&
          data.gdprApplies &&
          data.eventStatus != 'cmpuishown' &&
          fromCmp(!!(data.purpose.consents[1] && data.purpose.consents[8]), data.tcString),
      ),
    ),
    1)
})

check()
setInterval(check, 1e3)
