// Part of the on-demand piece (more.js): a decision, from clearsignal.consent() and
// optOut() (consent.js) or from a CMP (cmp.js), recorded through /api/consent. An
// analytics grant creates the browser id; the receipt is kept once the server has
// recorded it. A withdrawal takes effect at once, before it is recorded.

const core = window.clearsignal.core_
const { data_: data, storage_: storage } = core

// 16 random bytes as 22 base64url characters.
const newId = () =>
  btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))))
    .slice(0, 22)
    .replace(/\+/g, '-')
    .replace(/\//g, '_')

let decisions = 0 // taken on this page so far

// Resolves to the parsed receipt, or to undefined when none was recorded (blocked, no
// browser id, refused, or given up after retries). noticeVersion defaults to the tag's
// data-notice; method (default "api") and cmp (a CMP's state, {tcf} or {gcm}) are left
// out of the request when not given.
core.decide_ = async (purposes, noticeVersion = data.notice, method, cmp) => {
  try {
    const analytics = !!purposes?.analytics
    const decision = ++decisions
    // Events captured so far go out under the state they were captured in.
    core.flush_(1)
    // The id the decision is about: a withdrawal is recorded under the id it ends.
    const visitor = core.identify_(analytics && newId())
    if (!analytics) core.forget_()
    if (!visitor) return
    const response = await core.post_(
      '/api/consent',
      core.body_({
        visitor,
        purposes: { analytics, personalization: !!purposes?.personalization },
        notice_version: noticeVersion,
        method,
        client_ts: Date.now(),
        ...cmp,
      }),
    )
    if (response.ok) {
      const text = await response.text()
      // Kept as received (unless another decision followed), with the consent log's
      // key from the tag (data-log-key), which the data explanation page (/me) checks
      // the log under rather than under a key the collector hands out.
      if (analytics && decision == decisions) {
        storage.cs_id = visitor
        storage.cs_receipt = text
        if (data.logKey) storage.cs_log_key = data.logKey
      }
      return JSON.parse(text)
    }
  } catch (error) {
    core.log_('error', error)
  }
}
