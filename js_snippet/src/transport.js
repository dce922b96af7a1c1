// Delivery: a bounded in-memory queue, one batch in flight at a time (fetch with
// keepalive), exponential backoff with jitter, sendBeacon when the page is
// hidden or left.

import { blocked, endpoint, site } from './config.js'
import { id } from './consent.js'
import { log, safe } from './log.js'

const EVENTS = '/api/events'

// Events as JSON. An event's id is fixed when it is captured, so the server
// recognises a retried or re-beaconed event.
const queue = []
let inFlight // the batch being sent, or waiting for its next attempt
let timer

// POSTs a text/plain body (a string body gets that type, and no CORS preflight).
// 429, 5xx and network errors are retried 6 times, after 1, 2, 4, 8, 16 and 32 s,
// each times 1..2 for jitter. Resolves to the Response, or to a falsy value when
// blocked or given up.
export const post = (path, body, attempt = 0) =>
  blocked
    ? Promise.resolve(log(blocked, path))
    : fetch(endpoint + path, { method: 'POST', body, keepalive: true })
        .then((response) => {
          log('http', path, response.status)
          if (/^(5|429)/.test(response.status)) throw 0
          return response
        })
        .catch(
          () =>
            attempt < 6 &&
            new Promise((wake) =>
              setTimeout(wake, 1e3 * 2 ** attempt * (1 + Math.random())),
            ).then(() => post(path, body, attempt + 1)),
        )

// A request body: the site, the browser id (or null) and `fields`.
export const body = (fields) => JSON.stringify({ site, visitor: id || null, ...fields })

// The oldest events: at most 100 and 16,000 characters (under 64 KiB of UTF-8).
const nextBatch = (count = 1, chars = queue[0].length) => {
  while (count < 100 && (chars += queue[count]?.length) < 16e3) count++
  return body({ events: [] }).slice(0, -2) + queue.splice(0, count) + ']}'
}

// leaving: the page may be gone before any response, so hand everything to
// sendBeacon (a duplicate of the in-flight batch is harmless: event ids).
export const flush = safe((leaving) => {
  if (leaving) {
    inFlight && navigator.sendBeacon(endpoint + EVENTS, inFlight)
    while (queue[0]) navigator.sendBeacon(endpoint + EVENTS, nextBatch())
  } else if (queue[0] && !inFlight)
    post(EVENTS, (inFlight = nextBatch())).then(() => flush((inFlight = 0)))
})

// Sent after a second, or at once from 20 events on. At most 500 wait; beyond
// that the oldest is dropped. Strings are cut at 2,000 characters so that no
// single value makes a batch invalid.
export const enqueue = (event) => {
  const json = JSON.stringify(event, (key, value) => (value?.slice ? value.slice(0, 2e3) : value))
  queue.push(json) > 500 && log('queue_full', queue.shift())
  queue[19] ? flush() : (timer ||= setTimeout(() => flush((timer = 0)), 1e3))
}
