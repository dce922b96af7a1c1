// Auto-capture in cs.js: outbound links, downloads and funnel steps, which are counted
// without a grant too (events.js), and the end of a page. Interaction detail, which
// needs a grant (clicks, rage and dead clicks, scroll depth, engaged time, forms), is
// the piece's (detail.js, forms.js), which cs.js loads for a visitor who has one;
// pageviews are pages.js's.

import { doc } from './config.js'
import { clickType, INTERACTIVE } from './element.js'
import { record } from './events.js'
import { loadMore } from './loader.js'
import { safe } from './log.js'
import { endPage, watchNavigation } from './pages.js'
import { core } from './pieces.js'
import { state } from './state.js'
import { flush } from './transport.js'

// Every second: the on-demand piece once the page has a CMP (cmp.js).
export const tick = () => {
  if (window.dataLayer || window.__tcfapi) loadMore()
}

const handlers = {
  click({ target }) {
    const element = target.closest(INTERACTIVE)
    if (!element) return
    const descriptor = core.describe_(element)
    const type = clickType(element)
    if (type != 'click') record(type, { el: descriptor })
    // data-cs-step on a clickable element: a funnel step when clicked.
    if (element.dataset.csStep) record('step', { name: element.dataset.csStep, el: descriptor })
  },
  visibilitychange() {
    if (doc.hidden) {
      endPage(false)
      flush(true)
    }
  },
  pagehide() {
    endPage(true)
    flush(true)
  },
}

export const start = () => {
  // Capturing on window sees every event first, even where the page stops its propagation.
  for (const type in handlers) addEventListener(type, safe(handlers[type]), true)
  watchNavigation()
  // Interaction detail, for a visitor with a grant.
  if (state.browserId) loadMore()
}
