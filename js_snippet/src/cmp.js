// Part of the on-demand piece (more.js), loaded once the page has a consent
// management platform (CMP): decisions read from Google Consent Mode and the IAB
// TCF v2 API, checked every second (CMPs load late and change on a visitor's action).
// Each is recorded through clearsignal.consent() with method "cmp" and
// personalization false (ClearSignal asks for that itself, through consent()).

import { privacySignal } from './privacy.js'

const core = window.clearsignal.core_
const { data_: data, log_: log, safe_: safe } = core

let scanned = 0 // dataLayer entries read so far
let tcfApi // the TCF API, once listened to

// Recorded when it differs from the current state: granted while a receipt of a
// grant is kept. Under GPC or DNT a CMP's grant is not taken as explicit: only
// clearsignal.consent() grants then (debug: "[clearsignal] gpc cmp").
// cmpState ({gcm} or {tcf}) goes with the decision.
const fromCmp = (analytics, cmpState) => {
  if (!analytics == !core.storage_.cs_receipt) return
  if (analytics && privacySignal) log(privacySignal, 'cmp')
  else window.clearsignal.consent({ analytics }, data.notice, 'cmp', cmpState)
}

const check = () => {
  // Google Consent Mode: gtag('consent', 'update', {analytics_storage, ...})
  // entries in dataLayer are a visitor's decision ('default' entries are the
  // site's defaults). gtag() pushes its arguments object; other entries are
  // plain objects. The state kept with the decision is the one it was taken
  // from, analytics_storage, and no other.
  for (const entry of window.dataLayer?.slice(scanned) || []) {
    scanned++
    const storage = entry[0] == 'consent' && entry[1] == 'update' && entry[2].analytics_storage
    if (storage) fromCmp(storage == 'granted', { gcm: { analytics_storage: storage } })
  }
  // IAB TCF v2: purposes 1 (store and access information) and 8 (measure
  // content), once the CMP has loaded a decision or the visitor has made one
  // (not while its dialog is shown), where the GDPR applies. Listened to once,
  // as soon as the API is there.
  if (tcfApi || !window.__tcfapi) return
  tcfApi = window.__tcfapi
  tcfApi(
    'addEventListener',
    2,
    safe((tcData, ok) => {
      if (ok && tcData.gdprApplies && tcData.eventStatus != 'cmpuishown')
        fromCmp(tcData.purpose.consents[1] && tcData.purpose.consents[8], { tcf: tcData.tcString })
    }),
  )
}

safe(check)()
setInterval(safe(check), 1000)
