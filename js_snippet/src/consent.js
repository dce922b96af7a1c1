// Consent: the browser id exists only after an analytics grant. Decisions come from
// the site (clearsignal.consent, optOut) or its CMP (cmp.js), and are recorded by the
// piece (decision.js), which cs.js loads for them. It is loaded already wherever there
// is a grant to withdraw (capture.js), so that a withdrawal takes effect at once; were
// it refused, the withdrawal still takes effect here.

import { loadMore } from './loader.js'
import { safe } from './log.js'
import { core } from './pieces.js'
import { state } from './state.js'

// Resolves as decision.js's decide, or to undefined when the piece could not be loaded.
export const decide = (purposes, ...details) =>
  loadMore().then(() => {
    if (core.decide_) return core.decide_(purposes, ...details)
    if (!purposes?.analytics) core.forget_()
  })

export const receipt = safe(() => JSON.parse(state.storage.cs_receipt || null))

// The browser id, for the piece: the current one, or else `id` (a grant's, for this
// page only until the server has recorded it); and forgotten with what is kept with it.
core.identify_ = (id) => (state.browserId ||= id)
core.forget_ = () => {
  state.browserId = 0
  delete state.storage.cs_id
  delete state.storage.cs_receipt
}
