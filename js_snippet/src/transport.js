// Delivery of the queue (state.queue, filled by events.js) in batches: one batch
// in flight at a time (fetch with keepalive), exponential backoff with jitter,
// sendBeacon when the page is hidden or left.

import { blocked, data, endpoint, nav } from './config.js'
import { log } from './log.js'
import { state } from './state.js'

const EVENTS = '/api/events'
const RETRIES = 6
// A batch: at most this many events, and this many characters (under 64 KiB of UTF-8).
const BATCH_EVENTS = 100
const BATCH_CHARS = 16000

let inFlight // the batch being sent, or waiting for its next attempt

// POSTs a text/plain body (a string body gets that type, and no CORS preflight).
// 429, 5xx and network errors are retried 6 times, after 1, 2, 4, 8, 16 and 32 s,
// each plus up to 1 s of jitter. Resolves to the Response, or to a falsy value
// when given up. When sending is blocked it returns the reason, and sends nothing
// (events are not even queued then: record() logs the reason).
export const post = (path, body, attempt = 0) => {
  const retry = () =>
    attempt < RETRIES &&
    new Promise((wake) =>
      setTimeout(() => wake(post(path, body, attempt + 1)), (2 ** attempt + Math.random()) * 1000),
    )
  if (blocked) return blocked
  return fetch(endpoint + path, { method: 'POST', body, keepalive: true }).then((response) => {
    log('http', path, response.status)
    return response.status == 429 || response.status >= 500 ? retry() : response
  }, retry)
}

// A request body: the site, the browser id (or null) and `fields`.
export const body = (fields) =>
  JSON.stringify({ site: data.site, visitor: state.browserId || null, ...fields })

// The oldest queued events as one request body. They are JSON already, so they go
// into the body's events array as they are.
const nextBatch = () => {
  let count = 1
  let chars = state.queue[0].length
  while (count < BATCH_EVENTS && count < state.queue.length) {
    chars += state.queue[count].length
    if (chars >= BATCH_CHARS) break
    count++
  }
  return body({ events: [] }).slice(0, -2) + state.queue.splice(0, count).join(',') + ']}'
}

// leaving: the page is hidden or left, and may be gone before any answer (or a
// decision is about to be recorded). Everything queued goes to sendBeacon at once,
// and the batch in flight or waiting for its retry too: a duplicate is harmless,
// the collector dedupes by event id.
export const flush = (leaving) => {
  if (leaving) {
    if (inFlight) nav.sendBeacon(endpoint + EVENTS, inFlight)
    while (state.queue.length) nav.sendBeacon(endpoint + EVENTS, nextBatch())
  } else if (state.queue.length && !inFlight) {
    inFlight = nextBatch()
    post(EVENTS, inFlight).then(() => {
      inFlight = 0
      flush()
    })
  }
}
