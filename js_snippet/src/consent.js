// Consent: the browser id exists only after an analytics grant. Decisions come
// from the site (clearsignal.consent) or its CMP (cmp.js); each is recorded
// through /api/consent, and the receipt is kept.

import { data } from './config.js'
import { log, safe } from './log.js'
import { state } from './state.js'
import { body, flush, post } from './transport.js'

// Records a decision; resolves to the parsed receipt, or to undefined when none
// was recorded (blocked, no browser id, refused, or given up after retries).
// method (default "api") and cmp (a CMP's state, {tcf} or {gcm}) are left out of
// the request when not given.
export const decide = async (purposes, noticeVersion = data.notice, method, cmp) => {
  try {
    const analytics = !!purposes?.analytics
    // Events captured so far go out under the state they were captured in.
    flush(1)
    // An analytics grant creates the browser id, when there is none yet.
    state.browserId ||=
      analytics &&
      btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))))
        .slice(0, 22)
        .replace(/\+/g, '-')
        .replace(/\//g, '_')
    const request =
      state.browserId &&
      post(
        '/api/consent',
        body({
          purposes: { analytics, personalization: !!purposes?.personalization },
          notice_version: noticeVersion,
          method,
          client_ts: Date.now(),
          ...cmp,
        }),
      )
    if (!analytics) {
      // A withdrawal takes effect here at once; the request above carries the
      // old id, so that the server can erase what it holds.
      state.browserId = 0
      delete state.storage.cs_id
      delete state.storage.cs_receipt
    }
    const response = await request
    if (response.ok) {
      const text = await response.text()
      // Kept once the server has recorded the grant (until then the id lives
      // in this page only), as received. With them the consent log's key from the
      // tag (data-log-key), which the data explanation page (/me) checks the log
      // under rather than under a key the collector hands out.
      if (state.browserId) {
        state.storage.cs_id = state.browserId
        state.storage.cs_receipt = text
        if (data.logKey) state.storage.cs_log_key = data.logKey
      }
      return JSON.parse(text)
    }
  } catch (error) {
    log('error', error)
  }
}

export const receipt = safe(() => JSON.parse(state.storage.cs_receipt || null))
