// The snippet's mutable state: one object, which the other modules read and write.
// They export constants and functions only, so that their imports form no cycle.
// (The build turns each property into a variable of its own: see build.mjs.)

export const state = {
  // localStorage, or for this page only a plain object when the browser refuses
  // storage (sandboxed frames, blocked storage): set below.
  storage: {},
  // The browser id: 16 random bytes as 22 base64url characters (consent.js creates
  // it on an analytics grant), or falsy. Read from storage below.
  browserId: undefined,
  // The current pageview's URL (pages.js), and its referrer: the document's for the
  // first pageview, the page before it after a navigation within the page. Every
  // event carries both.
  page: undefined,
  referrer: undefined,
  // Events waiting to be sent, as JSON (events.js queues them, transport.js sends).
  queue: [],
}

try {
  state.storage = localStorage || state.storage
} catch {}
// A stored id of another length is not ours, and is ignored.
state.browserId = state.storage.cs_id?.length == 22 && state.storage.cs_id
