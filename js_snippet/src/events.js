// Builds events, applies the consent rules, and queues what may be sent.

import { blocked, data, doc, privacySignal } from './config.js'
import { log } from './log.js'
import { state } from './state.js'
import { flush } from './transport.js'

// Queues an event (as JSON, in state.queue) when it may be sent. Its id is fixed
// here, when it is captured, so that the server recognises a retried event.
export const record = (type, props, el, name) => {
  // A type's family is its first word ("rage" for rage_click, "form" for form_*).
  // Custom events (track) are always on.
  if (((data.auto ?? type) + 'custom').includes(type.split('_')[0])) {
    const event = {
      // Unique, not secret: 13-14 random hex digits, padded to 16.
      id: Math.random().toString(16).slice(2, 18).padEnd(16, 0),
      type,
      ts: Date.now(),
      url: state.page,
      ref: doc.referrer,
      name,
      props: props || undefined,
      el: el || undefined,
    }
    const reason =
      blocked ||
      (!state.browserId &&
        ('strict' in data
          ? 'strict'
          : privacySignal ||
            // Without a grant only anonymous measurement: page-level counts
            // (pageview, outbound, download, step, custom), no interaction detail.
            (!/^(pa|o|do|st|cu)/.test(type) && 'no_consent')))
    // Debug: '[clearsignal] event' and the event queued, or the reason it is not sent.
    log(reason || 'event', event)
    if (!reason) {
      // Strings are cut at 2,000 characters, so that no single value makes a
      // batch invalid. At most 500 events wait; beyond that the oldest is dropped.
      state.queue.push(
        JSON.stringify(event, (_key, value) => (value?.slice ? value.slice(0, 2e3) : value)),
      ) > 500 && log('queue_full', state.queue.shift())
      // Sent at once from 20 events on, otherwise with the next second's tick.
      state.queue[19] && flush()
    }
  }
}
