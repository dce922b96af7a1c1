// Consent: the browser id exists only after an analytics grant. Decisions come
// from the site (clearsignal.consent) or its CMP (cmp.js); each is recorded
// through /api/consent, and the receipt is kept.

import { data } from './config.js'
import { log, safe } from './log.js'
import { body, flush, post } from './transport.js'

// localStorage, or for this page only a plain object when the browser refuses
// storage (sandboxed frames, blocked storage).
export let storage = {}
try {
  storage = localStorage || storage
} catch {}

// The browser id: 16 random bytes as 22 base64url characters. A stored value of
// another length is not ours, and is ignored.
export let id = storage.cs_id?.length == 22 && storage.cs_id

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
    id ||=
      analytics &&
      btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))))
        .slice(0, 22)
        .replace(/\+/g, '-')
        .replace(/\//g, '_')
    const request =
      id &&
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
      id = 0
      delete storage.cs_id
      delete storage.cs_receipt
    }
    const response = await request
    if (response.ok) {
      const text = await response.text()
      // Kept once the server has recorded the grant (until then the id lives
      // in this page only), as received.
      if (id) (storage.cs_id = id), (storage.cs_receipt = text)
      return JSON.parse(text)
    }
  } catch (error) {
    log('error', error)
  }
}

export const receipt = safe(() => JSON.parse(storage.cs_receipt || null))
