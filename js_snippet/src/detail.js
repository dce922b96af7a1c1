// Part of the on-demand piece (more.js): interaction detail, which is sent only with an
// analytics grant (events.js), so that cs.js loads it only for a visitor who has one
// (capture.js) or gives one (consent.js). Rage and dead clicks, scroll depth and
// engaged time, from the moment the piece has started. Clicks on links out and to
// files are cs.js's (capture.js): they are counted without a grant too.

import { clickType, describe, FIELDS, INTERACTIVE, label, selector } from './element.js'

const core = window.clearsignal.core_
const { record_: record, safe_: safe } = core

// With a grant, every element an event names (cs.js's too) is described with its text
// (none for a form field, or when `plain`) and its place on the page.
core.describe_ = (element, plain = element.matches(FIELDS)) => ({
  ...describe(element),
  sel: selector(element),
  label: label(element, plain),
})

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

const RAGE_CLICKS = 3 // within RAGE_MS, each within RAGE_PX of the one before
const RAGE_MS = 1000
const RAGE_PX = 30
const DEAD_MS = 2500

const depth = () => {
  const { scrollHeight } = document.documentElement
  const seen = Math.min(100, ((scrollY + innerHeight) * 100) / scrollHeight) | 0
  maxDepth = Math.max(maxDepth, seen)
}

// The page is hidden, or left: its scroll depth and engaged time so far. The next
// page of the app starts from the top.
core.pageEnds_.push((_leaving, next) => {
  depth()
  if (maxDepth > depthSent) record('scroll', { props: { depth: (depthSent = maxDepth) } })
  if (engagedMs) record('engagement', { props: { ms: engagedMs } })
  engagedMs = 0
  if (next) maxDepth = depthSent = 0
})

const handlers = {
  click(event) {
    const { target, x, y } = event
    const element = target.closest(INTERACTIVE)
    const field = element?.matches(FIELDS)
    const descriptor = element && core.describe_(element, field)
    const now = Date.now()
    if (element && clickType(element) == 'click') record('click', { el: descriptor })

    // Rage: >= 3 clicks within 1 s, each within 30 px of the previous. A burst
    // is the clicks within 1 s of its first, each within 30 px of the one before;
    // its third click is its rage_click (one per burst). An element that is not
    // clickable is described without its text.
    if ((x - lastX) ** 2 + (y - lastY) ** 2 > RAGE_PX ** 2 || now - burst[0] > RAGE_MS) burst = []
    lastX = x
    lastY = y
    if (burst.push(now) == RAGE_CLICKS)
      record('rage_click', { el: descriptor || core.describe_(target, 1) })

    // Dead: no DOM change, navigation or scroll within 2.5 s. Form fields change
    // state without touching the DOM; a link left to navigate is not dead
    // (navigation ends the page, and this check with it). Each click has its own
    // check, and its own observer of the DOM for those 2.5 s only.
    if (!element || field || !core.wanted_('dead_click')) return
    const mutations = new MutationObserver(noteChange)
    mutations.observe(document, {
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
        if (!pageChanged && !leftToNavigate) record('dead_click', { el: descriptor })
      }),
      DEAD_MS,
    )
  },

  scroll() {
    noteChange()
    depth()
  },
}

for (const type in handlers) addEventListener(type, safe(handlers[type]), true)
depth()
// Engaged time counts while the page has the focus (so is visible).
setInterval(() => {
  if (document.hasFocus()) engagedMs += 1000
}, 1000)
