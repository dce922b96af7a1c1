// Auto-capture: pageviews (single-page-app navigation too), clicks, outbound
// links, downloads, funnel steps, scroll depth, engaged time, rage and dead
// clicks, form start/submit/abandon (field names only).

import { FIELDS, INTERACTIVE, describe, selector } from './element.js'
import { here, page, record, setPage } from './events.js'
import { safe } from './log.js'
import { flush } from './transport.js'

const doc = document

// Per pageview.
let maxDepth // deepest scroll position seen, percent of the page
let depthSent // deepest position already sent
let engagedMs // visible-and-focused time not sent yet
let stepsDue // the page's funnel steps are still to be looked for
const forms = new Map() // started, not submitted: form -> set of field names

// Rage clicks: the current burst of nearby clicks.
let burst = []
let lastX
let lastY
let rageTarget // descriptor, once the burst counts as rage
let rageTimer

// Dead clicks: one pending check at a time.
let deadTimer
let answered // the page reacted to the click (a DOM change or a scroll)
const mutations = new MutationObserver(() => (answered = 1))

const depth = () =>
  (maxDepth = Math.max(
    maxDepth,
    Math.min(100, (((scrollY + innerHeight) * 100) / doc.documentElement.scrollHeight) | 0),
  ))

const formEvent = (type, form, fields) =>
  record(type, {
    form: form.getAttribute('id') || form.getAttribute('name') || selector(form),
    fields: [...fields].filter(Boolean).join(),
  })

const rageEnd = safe(() => {
  clearTimeout(rageTimer)
  rageTarget && record('rage_click', { clicks: burst.length }, rageTarget)
  burst = []
  rageTarget = 0
})

// The page is hidden, or left (leaving: navigation or unload).
const pageEnd = (leaving) => {
  depth() > depthSent && record('scroll', { depth: (depthSent = maxDepth) })
  engagedMs && record('engagement', { ms: engagedMs, depth: maxDepth })
  engagedMs = 0
  rageEnd()
  if (leaving) {
    forms.forEach((fields, form) => formEvent('form_abandon', form, fields))
    forms.clear()
  }
}

const pageview = () => {
  setPage()
  maxDepth = depthSent = engagedMs = 0
  stepsDue = 1
  record('pageview')
}

const navigated = safe(() => here() != page && pageview(pageEnd(1)))

// At start and every second. Engaged time counts while the page has the focus
// (so is visible). A page's funnel steps (data-cs-step on an element that is not
// clickable) are looked for once after its pageview, when it has rendered.
export const tick = () => {
  doc.hasFocus() && (engagedMs += 1e3)
  if (stepsDue) {
    stepsDue = 0
    for (const element of doc.querySelectorAll('[data-cs-step]'))
      element.closest(INTERACTIVE) || record('step', 0, 0, element.dataset.csStep)
  }
}

const handlers = {
  click(event) {
    const { target, clientX: x, clientY: y } = event
    const element = target.closest?.(INTERACTIVE)
    const now = Date.now()

    // Rage: >= 3 clicks within 1 s, each within 30 px of the previous. One event
    // per burst, sent when it ends (1 s without a nearby click).
    ;(x - lastX) ** 2 + (y - lastY) ** 2 > 900 && rageEnd()
    lastX = x
    lastY = y
    const count = burst.push(now)
    if (count > 2 && now - burst[count - 3] <= 1e3)
      rageTarget ||= element ? describe(element) : describe(target, 1)
    clearTimeout(rageTimer)
    rageTimer = setTimeout(rageEnd, 1e3)

    if (element) {
      const descriptor = describe(element)
      record(
        element.hasAttribute('download') ||
          /\.(pdf|csv|docx?|xlsx?|zip|dmg|exe)$/i.test(element.pathname)
          ? 'download'
          : element.host && element.host != location.host
            ? 'outbound'
            : 'click',
        0,
        descriptor,
      )
      // data-cs-step on a clickable element: a funnel step when clicked.
      element.dataset.csStep && record('step', 0, descriptor, element.dataset.csStep)

      // Dead: no DOM change, navigation or scroll within 2.5 s. Form fields
      // change state without touching the DOM; a link left to navigate is not
      // dead (navigation ends the page, and this check with it).
      if (!element.matches(FIELDS)) {
        clearTimeout(deadTimer)
        answered = 0
        mutations.observe(doc, {
          subtree: true,
          childList: true,
          attributes: true,
          characterData: true,
        })
        deadTimer = setTimeout(
          safe(
            () =>
              mutations.disconnect() ||
              answered ||
              (element.href && !event.defaultPrevented) ||
              record('dead_click', 0, descriptor),
          ),
          2500,
        )
      }
    }
  },

  input({ target: field }) {
    const form = field.form
    const name = field.name || field.id
    form &&
      (forms.get(form)?.add(name) ||
        formEvent('form_start', form, forms.set(form, new Set([name])).get(form)))
  },

  submit({ target: form }) {
    formEvent('form_submit', form, forms.get(form) || [])
    forms.delete(form)
  },

  scroll: () => depth((answered = 1)),
  visibilitychange: () => doc.hidden && flush(1, pageEnd()),
  pagehide: () => flush(1, pageEnd(1)),
  popstate: navigated,
}

export const start = () => {
  for (const method of ['pushState', 'replaceState']) {
    const original = history[method]
    history[method] = (...args) => {
      original.apply(history, args)
      navigated()
    }
  }
  // Capturing on window sees every event first, even where the page stops its propagation.
  for (const type in handlers) addEventListener(type, safe(handlers[type]), true)
  pageview()
}
