// Builds events and applies the consent rules before anything is queued.

import { blocked, captures, privacySignal, strict } from './config.js'
import { id, random } from './consent.js'
import { log } from './log.js'
import { enqueue } from './transport.js'

// The URL of the current pageview, without its fragment; every event carries it.
export let page

export const here = () => location.href.split('#')[0]
export const setPage = () => (page = here())

export const record = (type, props, el, name) => {
  if (captures(type)) {
    const event = {
      id: Array.from(random(8), (byte) => (byte | 256).toString(16).slice(1)).join(''),
      type,
      ts: Date.now(),
      url: page,
      ref: document.referrer || null,
      name,
      props: props || undefined,
      el: el || undefined,
    }
    const reason =
      blocked ||
      (!id &&
        (strict
          ? 'strict'
          : privacySignal ||
            // Without a grant only anonymous measurement: page-level counts
            // (pageview, outbound, download, step, custom), no interaction detail.
            (!/^(pa|o|do|st|cu)/.test(type) && 'no_consent')))
    // Debug: '[clearsignal] event' and the event queued, or the reason it is not sent.
    log(reason || 'event', event)
    reason || enqueue(event)
  }
}
