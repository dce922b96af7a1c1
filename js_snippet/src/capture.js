// Auto-capture: pageviews (single-page-app navigation too), clicks, outbound
// links, downloads, funnel steps, scroll depth, engaged time, rage and dead
// clicks, form start/submit/abandon (field names only).

import { doc } from './config.js'
import { describe, FIELDS, INTERACTIVE, selector } from './element.js'
import { record } from './events.js'
import { safe } from './log.js'
import { state } from './state.js'
import { flush } from './transport.js'

// Per pageview.
let maxDepth // deepest scroll position seen, percent of the page
let depthSent // deepest position already sent
let engagedMs // visible-and-focused time not sent yet
const forms = new Map() // started, not submitted: form -> set of field names
let stepsTimer

// Rage clicks: the times of the current burst's clicks, and where the last one was.
let burst = []
let lastX
let lastY

// Dead clicks: when the page last changed (its DOM, or a scroll). The DOM is
// observed only while a click's check is pending.
let changed
const noteChange = () => (changed = Date.now())

const depth = () =>
  (maxDepth = Math.max(
    maxDepth,
    Math.min(100, ((scrollY + innerHeight) * 100) / doc.documentElement.scrollHeight) | 0,
  ))

// A form's event: its name (or selector) and the names of the fields typed in.
const formEvent = (type, form) =>
  record(type, {
    form: form.getAttribute('name') || selector(form),
    fields: [...(forms.get(form) || [])].join(),
  })

// The page is hidden, or left (leaving: navigation or unload).
const pageEnd = (leaving) => {
  depth() > depthSent && record('scroll', { depth: (depthSent = maxDepth) })
  engagedMs && record('engagement', { ms: engagedMs })
  engagedMs = 0
  if (leaving) {
    for (const [form] of forms) formEvent('form_abandon', form)
    forms.clear()
  }
}

// A new page when the URL without its fragment has changed: at start, after a
// click (once the page's own handlers have run) or popstate, and at every tick,
// so that a single-page app's history.pushState or replaceState is seen at once
// when a click led to it, and within a second otherwise. The page before ends
// (scroll, engagement, abandoned forms).
const navigated = safe(() => {
  const url = location.href.split('#')[0]
  if (url != state.page) {
    pageEnd(1)
    state.page = url
    maxDepth = depthSent = 0
    record('pageview')
    // The page's funnel steps (data-cs-step on an element that is not clickable),
    // looked for a second later, when a single-page app has rendered; once per page.
    clearTimeout(stepsTimer)
    stepsTimer = setTimeout(
      safe(() => {
        for (const element of doc.querySelectorAll('[data-cs-step]'))
          element.closest(INTERACTIVE) || record('step', 0, 0, element.dataset.csStep)
      }),
      1e3,
    )
  }
})

// Every second: the URL, and engaged time, which counts while the page has the
// focus (so is visible).
export const tick = () => {
  if (doc.hasFocus()) engagedMs += 1e3
  navigated()
}

const handlers = {
  click(event) {
    const { target, x, y } = event
    const element = target.closest(INTERACTIVE)
    const field = element?.matches(FIELDS)
    const descriptor = element && describe(element, field)
    const now = Date.now()
    setTimeout(navigated)

    // Rage: >= 3 clicks within 1 s, each within 30 px of the previous. A burst
    // is the clicks within 1 s of its first, each within 30 px of the one before;
    // its third click is its rage_click (one per burst).
    if ((x - lastX) ** 2 + (y - lastY) ** 2 > 900 || now - burst[0] > 1e3) burst = []
    lastX = x
    lastY = y
    burst.push(now) == 3 && record('rage_click', 0, descriptor || describe(target, 1))

    if (element) {
      // A download: a link with a download attribute, or to a file of these types.
      record(
        element.attributes.download ||
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
      // dead (navigation ends the page, and this check with it). Each click has
      // its own check, and its own observer of the DOM for those 2.5 s only.
      if (!field) {
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
            changed >= now ||
              (element.href && !event.defaultPrevented) ||
              record('dead_click', 0, descriptor)
          }),
          2500,
        )
      }
    }
  },

  input({ target: field }) {
    const form = field.form
    // A field without a name or id counts under its type ("text", "select-one").
    const name = field.name || field.id || field.type
    // The first field typed in starts the form.
    if (form && !forms.get(form)?.add(name)) {
      forms.set(form, new Set([name]))
      formEvent('form_start', form)
    }
  },

  submit({ target: form }) {
    formEvent('form_submit', form)
    forms.delete(form)
  },

  scroll: () => depth(noteChange()),
  visibilitychange: () => doc.hidden && flush(1, pageEnd()),
  pagehide: () => flush(1, pageEnd(1)),
  popstate: navigated,
}

export const start = () => {
  // Capturing on window sees every event first, even where the page stops its propagation.
  for (const type in handlers) addEventListener(type, safe(handlers[type]), true)
  navigated()
}
