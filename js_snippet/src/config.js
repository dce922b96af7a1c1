// Configuration, read once from the <script> tag's data-* attributes (README.md
// documents each).

export const doc = document
export const nav = navigator
const script = doc.currentScript
export const data = script?.dataset || {}

// Where to send: the origin that served this file, unless data-endpoint names one.
export const endpoint = data.endpoint || new URL(script?.src, location).origin

// Reasons that stop every request, consent or not. Local: 127.x.x.x, [::1], no
// host (file:), and any host name ending in "localhost".
export const blocked = !data.site
  ? 'no_site'
  : nav.webdriver && !('allowAutomation' in data)
    ? 'automation'
    : /^(127\.|\[::1]$|$)|localhost$/.test(location.hostname) &&
      !('allowLocalhost' in data) &&
      'localhost'
