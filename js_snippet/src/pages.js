// Pageviews: one for each page the visitor sees, whether the browser loads it or a
// single-page app's router shows it (History API, hash routes). What ends with a page
// (scroll depth, engaged time, abandoned forms) is sent before the next one begins.

import { doc } from './config.js'
import { INTERACTIVE } from './element.js'
import { record } from './events.js'
import { loadMore } from './loader.js'
import { safe } from './log.js'
import { state } from './state.js'

// Called when a page ends, with `leaving` true when the visitor leaves it (a
// navigation, or pagehide) rather than only hiding it, and `next` when another page
// of the app follows at once: capture.js and the piece add to it.
export const pageEnds = []

export const endPage = (leaving, next) => {
  for (const end of pageEnds) end(leaving, next)
}

// The page's URL as pageviews count it: without the fragment, unless the fragment is
// a single-page app's route (#/orders, hash routing), which the collector keeps too.
const currentUrl = () => location.href.replace(/#(?!\/).*/, '')

// A URL without its query strings: the page it shows.
const withoutQuery = (url) => url.replace(/\?[^#]*/g, '')

let stepsTimer

// A navigation has happened (how: 'push', 'replace' or 'traverse'). A new pageview
// when the URL differs from the current page's, except for a replaceState that only
// changes the query string: that is the same page with other parameters (filters, a
// sort order), whose events carry the new URL from then on.
export const navigated = safe((how) => {
  const url = currentUrl()
  if (url == state.page) return
  if (how == 'replace' && withoutQuery(url) == withoutQuery(state.page)) {
    state.page = url
    return
  }
  if (state.page) endPage(true, true)
  state.referrer = state.page ?? doc.referrer
  state.page = url
  record('pageview')
  // The page's funnel steps (data-cs-step on an element that is not clickable),
  // looked for a second later, when a single-page app has rendered; once per page.
  clearTimeout(stepsTimer)
  stepsTimer = setTimeout(
    safe(() => {
      for (const element of doc.querySelectorAll('[data-cs-step]'))
        element.closest(INTERACTIVE) || record('step', { name: element.dataset.csStep })
    }),
    1000,
  )
})

// Every navigation as it happens: from the Navigation API where the browser has it
// (its currententrychange follows every pushState, replaceState, back and forward);
// where it has not, the on-demand piece does (history.js). navigated() counts
// a URL once, whichever way it is reported.
export const watchNavigation = () => {
  navigated()
  if (window.navigation)
    navigation.addEventListener('currententrychange', (event) => navigated(event.navigationType))
  else loadMore()
}

// A safety net, every second: a URL changed in a way nothing reported (an app that
// called a pushState it kept from before history.js wrapped it).
export const checkUrl = () => navigated()
