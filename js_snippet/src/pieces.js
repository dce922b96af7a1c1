// What a piece may use of cs.js, and where it plugs in: window.clearsignal.core_.
// The build mangles every property name that ends in "_", in cs.js and the pieces
// alike, so that these cost no more than local names.

import { data, privacySignal } from './config.js'
import { decide } from './consent.js'
import { selector } from './element.js'
import { record } from './events.js'
import { log, safe } from './log.js'
import { navigated, pageEnds } from './pages.js'
import { state } from './state.js'

export const core = {
  record_: record,
  decide_: decide,
  selector_: selector,
  log_: log,
  safe_: safe,
  data_: data,
  privacySignal_: privacySignal,
  storage_: state.storage,
  pageEnds_: pageEnds,
  navigated_: navigated,
  // Form events that came before the piece: forms.js takes them when it starts.
  formsWaiting_: [],
}
