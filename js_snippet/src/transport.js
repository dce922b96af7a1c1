// Delivery of the queue (events.js) in batches, with fetch keepalive: one batch
// in flight at a time, exponential backoff with jitter; everything at once when
// the page is hidden or left (a keepalive request outlives the page).

import { blocked, data, endpoint } from './config.js'
import { id } from './consent.js'
import { queue } from './events.js'
import { log } from './log.js'

let inFlight // the batch being sent, or waiting for its next attempt

// POSTs a text/plain body (a string body gets that type, and no CORS preflight).
// 429, 5xx and network errors are retried 6 times, after 1, 2, 4, 8, 16 and 32 s,
// each plus up to 1 s of jitter. Resolves to the Response, or to a falsy value
// when given up. When sending is blocked it returns the reason, and sends nothing
// (events are not even queued then: record() logs the reason).
export const post = (path, body, attempt = 0) =>
  blocked ||
  fetch(endpoint + path, { method: 'POST', body, keepalive: true })
    .then((response) => {
      log('http', path, response.status)
      if (/^(5|429)/.test(response.status)) throw 0
      return response
    })
    .catch(
      () =>
        attempt < 6 &&
        new Promise((wake) => setTimeout(wake, (2 ** attempt + Math.random()) * 1e3)).then(
          () => post(path, body, attempt + 1),
        ),
    )

// A request body: the site, the browser id (or null) and `fields`.
export const body = (fields) => JSON.stringify({ site: data.site, visitor: id || null, ...fields })

// The oldest events: at most 100 and 16,000 characters (under 64 KiB of UTF-8).
const nextBatch = (count = 1, chars = queue[0].length) => {
  while (count < 100 && (chars += queue[count]?.length) < 16e3) count++
  return body({ events: [] }).slice(0, -2) + queue.splice(0, count) + ']}'
}

// leaving (the page is hidden or left): every batch now, not one after another,
// as the page may be gone before any answer.
export const flush = (leaving) => {
  while (queue[0] && (leaving || !inFlight))
    post('/api/events', (inFlight = nextBatch())).then(() => flush((inFlight = 0)))
}
