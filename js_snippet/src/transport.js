// Delivery of the queue (state.queue, filled by events.js) in batches: one batch
// in flight at a time (fetch with keepalive), exponential backoff with jitter,
// sendBeacon when the page is hidden or left.

import { blocked, data, endpoint, nav } from './config.js'
import { log } from './log.js'
import { state } from './state.js'

let inFlight // the batch being sent, or waiting for its next attempt

// POSTs a text/plain body (a string body gets that type, and no CORS preflight).
// 429, 5xx and network errors are retried 6 times, after 1, 2, 4, 8, 16 and 32 s,
// each plus up to 1 s of jitter. Resolves to the Response, or to a falsy value
// when given up. When sending is blocked it returns the reason, and sends nothing
// (events are not even queued then: record() logs the reason).
export const post = (path, body, attempt = 0) => {
  const retry = () =>
    attempt < 6 &&
    new Promise((wake) =>
      setTimeout(() => wake(post(path, body, attempt + 1)), (2 ** attempt + Math.random()) * 1e3),
    )
  return (
    blocked ||
    fetch(endpoint + path, { method: 'POST', body, keepalive: true }).then((response) => {
      log('http', path, response.status)
      return /^(5|429)/.test(response.status) ? retry() : response
    }, retry)
  )
}

// A request body: the site, the browser id (or null) and `fields`.
export const body = (fields) =>
  JSON.stringify({ site: data.site, visitor: state.browserId || null, ...fields })

// The oldest events: at most 100 and 16,000 characters (under 64 KiB of UTF-8).
const nextBatch = (count = 1, chars = state.queue[0].length) => {
  while (count < 100 && (chars += state.queue[count]?.length) < 16e3) count++
  return body({ events: [] }).slice(0, -2) + state.queue.splice(0, count) + ']}'
}

// leaving: the page is hidden or left, and may be gone before any answer (or a
// decision is about to be recorded). Everything queued goes to sendBeacon at once,
// and the batch in flight or waiting for its retry too: a duplicate is harmless,
// the collector dedupes by event id.
export const flush = (leaving) => {
  if (leaving) {
    inFlight && nav.sendBeacon(endpoint + '/api/events', inFlight)
    while (state.queue[0]) nav.sendBeacon(endpoint + '/api/events', nextBatch())
  } else if (state.queue[0] && !inFlight)
    post('/api/events', (inFlight = nextBatch())).then(() => flush((inFlight = 0)))
}
