// Part of the on-demand piece (more.js), for a browser without the Navigation API:
// pushState and replaceState, wrapped, report each navigation as it happens, and so
// do popstate and hashchange (back, forward, a link to #/route). Where the
// Navigation API is, pages.js listens to it and this does nothing.

const { navigated_: navigated } = window.clearsignal.core_

if (!window.navigation) {
  for (const [method, how] of [
    ['pushState', 'push'],
    ['replaceState', 'replace'],
  ]) {
    const original = history[method]
    history[method] = function (...args) {
      const result = original.apply(this, args)
      navigated(how)
      return result
    }
  }
  addEventListener('popstate', () => navigated('traverse'))
  addEventListener('hashchange', () => navigated('traverse'))
  navigated()
}
