// The visitor's data page (/me): the site it is about, the browser id that the site's
// snippet keeps in this origin's storage (localStorage.cs_id, written after an
// analytics grant), and requests to the collector, which carry that id only in the
// Authorization header of same-origin requests, never in a URL.

// Events asked for at a time.
export const PAGE = 20
export const site = new URLSearchParams(location.search).get('site') || ''

let storage = {}
try {
  storage = window.localStorage || storage
} catch {}
const storedId = storage.cs_id
// Kept in memory after a withdrawal or deletion removes it from storage, so that the
// page can still show what happened.
export const browserId = /^[\w-]{22}$/.test(storedId || '') ? storedId : ''

// Whether this browser still keeps the id (not after a withdrawal or deletion).
export const idStored = () => Boolean(storage.cs_id)
// The receipt of a grant made on this page, kept as the snippet keeps its own.
export const keepReceipt = (text) => {
  storage.cs_receipt = text
}
// The consent log's key, pinned: the one the site's snippet keeps (cs_log_key, from its
// data-log-key), else the one this page saw on this browser's first visit. A key in an
// answer is never trusted just because the answer names it.
export const pinnedLogKey = (offered) => {
  if (storage.cs_log_key) return { vkey: storage.cs_log_key, by: 'the site' }
  storage.cs_log_key_seen ||= offered
  return { vkey: storage.cs_log_key_seen, by: 'your first visit to this page' }
}
// The newest checkpoint of the log this browser has checked (a signed note).
export const heldCheckpoint = () => storage.cs_checkpoint || ''
export const holdCheckpoint = (note) => {
  storage.cs_checkpoint = note
}
export const forgetId = () => {
  delete storage.cs_id
  delete storage.cs_receipt
}

export const api = (path, options = {}) => {
  const headers = { ...(options.headers || {}) }
  if (browserId && options.authorize !== false)
    headers.Authorization = `ClearSignal-Visitor ${browserId}`
  return fetch(path, { ...options, headers, cache: 'no-store', credentials: 'same-origin' })
}
export const query = (fields) => new URLSearchParams({ site, ...fields }).toString()
