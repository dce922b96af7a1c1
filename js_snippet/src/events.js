// Builds events, applies the consent rules, and queues what may be sent.

import { blocked, data } from './config.js'
import { log } from './log.js'
import { privacySignal } from './privacy.js'
import { state } from './state.js'
import { flush } from './transport.js'

// Without an analytics grant only anonymous measurement is sent: these page-level
// counts, and no interaction detail.
const ANONYMOUS = ['pageview', 'outbound', 'download', 'step', 'custom']
// Longer strings are cut, so that no single value makes a batch invalid.
const MAX_STRING = 2000
// At most this many events wait; beyond that the oldest is dropped.
const MAX_QUEUED = 500
// From this many queued events a batch goes at once, not with the next tick.
const SEND_AT = 20

// data-auto lists the families of auto-capture that are on (all when it is absent):
// an event type's family is its first word ("rage" for rage_click, "form" for
// form_start). Custom events (track) are always on.
const enabled = (type) => {
  const family = type.split('_')[0]
  return type == 'custom' || (data.auto ?? family).split(',').some((on) => on.trim() == family)
}

// Why an event of this type may not be sent now, or nothing when it may.
const refusal = (type) =>
  blocked ||
  (!state.browserId &&
    ('strict' in data ? 'strict' : privacySignal || (!ANONYMOUS.includes(type) && 'no_consent')))

// Whether an event of this type would be sent now: pieces load only when it would.
export const wanted = (type) => enabled(type) && !refusal(type)

// Queues an event (as JSON, in state.queue) when it may be sent; details are its
// fields beyond the type, as on the wire: name, props, el (an element descriptor).
// Its id is fixed here, when it is captured, so that the server recognises a
// retried event.
export const record = (type, details) => {
  if (!enabled(type)) return
  const event = {
    // Unique, not secret: 13-14 random hex digits, padded to 16.
    id: Math.random().toString(16).slice(2, 18).padEnd(16, 0),
    type,
    ts: Date.now(),
    url: state.page,
    ref: state.referrer,
    ...details,
  }
  const reason = refusal(type)
  // Debug: '[clearsignal] event' and the event queued, or the reason it is not sent.
  log(reason || 'event', event)
  if (reason) return
  const json = JSON.stringify(event, (_key, value) =>
    value?.slice ? value.slice(0, MAX_STRING) : value,
  )
  if (state.queue.push(json) > MAX_QUEUED) log('queue_full', state.queue.shift())
  if (state.queue.length >= SEND_AT) flush()
}
