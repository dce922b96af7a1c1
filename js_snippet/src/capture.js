// Auto-capture: clicks, outbound links, downloads, funnel steps, scroll depth, engaged
// time, rage and dead clicks. Pageviews are pages.js's; forms are forms.js's, in the
// on-demand piece, loaded when a visitor first types in a form or submits one.

import { doc } from './config.js'
import { describe, FIELDS, INTERACTIVE } from './element.js'
import { record, wanted } from './events.js'
import { loadMore } from './loader.js'
import { safe } from './log.js'
import { endPage, pageEnds, watchNavigation } from './pages.js'
import { core } from './pieces.js'
import { flush } from './transport.js'

// Per pageview.
let maxDepth = 0 // deepest scroll position seen, percent of the page
let depthSent = 0 // deepest position already sent
let engagedMs = 0 // visible-and-focused time not sent yet

// Rage clicks: the times of the current burst's clicks, and where the last one was.
let burst = []
let lastX
let lastY

// Dead clicks: when the page last changed (its DOM, or a scroll). The DOM is
// observed only while a click's check is pending.
let changed
const noteChange = () => {
  changed = Date.now()
}

const DOWNLOAD = /\.(pdf|csv|docx?|xlsx?|zip|dmg|exe)$/i
const RAGE_CLICKS = 3 // within RAGE_MS, each within RAGE_PX of the one before
const RAGE_MS = 1000
const RAGE_PX = 30
const DEAD_MS = 2500

const depth = () => {
  const { scrollHeight } = doc.documentElement
  const seen = Math.min(100, ((scrollY + innerHeight) * 100) / scrollHeight) | 0
  maxDepth = Math.max(maxDepth, seen)
}

// The page is hidden, or left: its scroll depth and engaged time so far. The next
// page of the app starts from the top.
pageEnds.push((_leaving, next) => {
  depth()
  if (maxDepth > depthSent) record('scroll', { depth: (depthSent = maxDepth) })
  if (engagedMs) record('engagement', { ms: engagedMs })
  engagedMs = 0
  if (next) maxDepth = depthSent = 0
})

// Form events go to forms.js; until the piece has started, they wait for it. It
// loads for them only when a form event would be sent (the family is on, consent
// allows it).
const formEvent = (event) => {
  if (core.forms_) core.forms_(event)
  else if (wanted('form_start')) {
    core.formsWaiting_.push(event)
    loadMore()
  }
}

// Every second: engaged time, which counts while the page has the focus (so is
// visible); and the on-demand piece once the page has a CMP (cmp.js).
export const tick = () => {
  if (doc.hasFocus()) engagedMs += 1000
  if (window.dataLayer || window.__tcfapi) loadMore()
}

const handlers = {
  click(event) {
    const { target, x, y } = event
    const element = target.closest(INTERACTIVE)
    const field = element?.matches(FIELDS)
    const descriptor = element && describe(element, field)
    const now = Date.now()

    // Rage: >= 3 clicks within 1 s, each within 30 px of the previous. A burst
    // is the clicks within 1 s of its first, each within 30 px of the one before;
    // its third click is its rage_click (one per burst).
    if ((x - lastX) ** 2 + (y - lastY) ** 2 > RAGE_PX ** 2 || now - burst[0] > RAGE_MS) burst = []
    lastX = x
    lastY = y
    if (burst.push(now) == RAGE_CLICKS) record('rage_click', 0, descriptor || describe(target, 1))

    if (!element) return
    // A download: a link with a download attribute, or to a file of these types.
    const type =
      element.attributes.download || DOWNLOAD.test(element.pathname)
        ? 'download'
        : element.host && element.host != location.host
          ? 'outbound'
          : 'click'
    record(type, 0, descriptor)
    // data-cs-step on a clickable element: a funnel step when clicked.
    if (element.dataset.csStep) record('step', 0, descriptor, element.dataset.csStep)

    // Dead: no DOM change, navigation or scroll within 2.5 s. Form fields change
    // state without touching the DOM; a link left to navigate is not dead
    // (navigation ends the page, and this check with it). Each click has its own
    // check, and its own observer of the DOM for those 2.5 s only.
    if (field) return
    const mutations = new MutationObserver(noteChange)
    mutations.observe(doc, {
      subtree: true,
      childList: true,
      attributes: true,
      characterData: true,
    })
    setTimeout(
      safe(() => {
        mutations.disconnect()
        const pageChanged = changed >= now
        const leftToNavigate = element.href && !event.defaultPrevented
        if (!pageChanged && !leftToNavigate) record('dead_click', 0, descriptor)
      }),
      DEAD_MS,
    )
  },

  input(event) {
    if (event.target.form) formEvent(event)
  },
  submit: formEvent,

  scroll() {
    noteChange()
    depth()
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
}
