// Auto-capture: pageviews (single-page-app navigation too), clicks, outbound
// links, downloads, funnel steps, scroll depth, engaged time, rage and dead
// clicks, form start/submit/abandon (field names only).

import { doc } from './config.js'
import { FIELDS, INTERACTIVE, describe, selector } from './element.js'
import { record } from './events.js'
import { safe } from './log.js'
import { flush } from './transport.js'

// Per pageview.
export let page // its URL without the fragment; every event carries it
let maxDepth // deepest scroll position seen, percent of the page
let depthSent // deepest position already sent
let engagedMs // visible-and-focused time not sent yet
const forms = new Map() // started, not submitted: form -> set of field names

// Rage clicks: the times of the current burst's clicks, where the last one was.
let burst = []
let lastX
let lastY
let raged // the burst's rage_click is sent

// Dead clicks: one pending check at a time.
let answered // the page reacted to the click (a DOM change or a scroll)
const mutations = new MutationObserver(() => (answered = 1))

const depth = () =>
  (maxDepth = Math.max(
    maxDepth,
    Math.min(100, (((scrollY + innerHeight) * 100) / doc.documentElement.scrollHeight) | 0),
  ))

const formEvent = (type, form, fields) =>
  record(type, {
    form: form.getAttribute('name') || selector(form),
    fields: [...fields].join(),
  })

let stepsTimer
let deadTimer

// The page is hidden, or left (leaving: navigation or unload).
const pageEnd = (leaving) => {
  depth() > depthSent && record('scroll', { depth: (depthSent = maxDepth) })
  engagedMs && record('engagement', { ms: engagedMs })
  engagedMs = 0
  if (leaving) {
    forms.forEach((fields, form) => formEvent('form_abandon', form, fields))
    forms.clear()
  }
}

const here = () => location.href.split('#')[0]

const pageview = () => {
  page = here()
  maxDepth = depthSent = engagedMs = 0
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

const navigated = safe(() => here() != page && pageview(pageEnd(1)))

// Every second: engaged time counts while the page has the focus (so is visible).
export const tick = () => doc.hasFocus() && (engagedMs += 1e3)

const handlers = {
  click(event) {
    const { target, clientX: x, clientY: y } = event
    const element = target.closest?.(INTERACTIVE)
    const descriptor = element && describe(element)
    const now = Date.now()

    // Rage: >= 3 clicks within 1 s, each within 30 px of the previous. One
    // rage_click per burst, at the click that makes it one; a click more than
    // 1 s after the previous one or more than 30 px away starts a new burst.
    if ((x - lastX) ** 2 + (y - lastY) ** 2 > 900 || now - burst.at(-1) > 1e3) {
      burst = []
      raged = 0
    }
    lastX = x
    lastY = y
    const count = burst.push(now)
    if (count > 2 && now - burst[count - 3] <= 1e3 && !raged) {
      raged = 1
      record('rage_click', 0, descriptor || describe(target, 1))
    }

    if (element) {
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
        answered = 0
        mutations.observe(doc, {
          subtree: true,
          childList: true,
          attributes: true,
          characterData: true,
        })
        clearTimeout(deadTimer)
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
    // A field without a name or id counts under its type ("text", "select-one").
    const name = field.name || field.id || field.type
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
    // The page's own call first (an argument of navigated, which ignores it).
    history[method] = (...args) => navigated(original.apply(history, args))
  }
  // Capturing on window sees every event first, even where the page stops its propagation.
  for (const type in handlers) addEventListener(type, safe(handlers[type]), true)
  pageview()
}
