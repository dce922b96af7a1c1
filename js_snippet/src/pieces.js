// What a piece may use of cs.js, and where it plugs in: window.clearsignal.core_.
// The build mangles every property name that ends in "_", in cs.js and the pieces
// alike, so that these cost no more than local names. consent.js adds the browser id.

import { data } from './config.js'
import { describe } from './element.js'
import { record, wanted } from './events.js'
import { log, safe } from './log.js'
import { navigated, pageEnds } from './pages.js'
import { state } from './state.js'
import { body, flush, post } from './transport.js'

export const core = {
  record_: record,
  wanted_: wanted,
  describe_: describe,
  log_: log,
  safe_: safe,
  data_: data,
  storage_: state.storage,
  pageEnds_: pageEnds,
  navigated_: navigated,
  post_: post,
  body_: body,
  flush_: flush,
}
