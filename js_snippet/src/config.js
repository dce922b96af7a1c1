// Configuration, read once from the <script> tag's data-* attributes, and the
// browser's privacy signals. README.md documents every attribute.

export const doc = document
export const nav = navigator
const script = doc.currentScript
const data = script?.dataset || {}

export const site = data.site

// Where to send: the origin that served this file, unless data-endpoint names one.
export const endpoint = data.endpoint || new URL(script?.src, location).origin

export const debug = 'debug' in data
export const strict = 'strict' in data

// Notice version for decisions that do not name one (a CMP's, optOut()).
export const notice = data.notice

// The auto-capture families that are on, e.g. "pageview,click,form"; all when
// data-auto is absent. README.md lists the families.
export const auto = data.auto

// GPC or DNT: without an explicit grant nothing is sent.
export const privacySignal = nav.globalPrivacyControl ? 'gpc' : nav.doNotTrack == 1 ? 'dnt' : ''

// Reasons that stop every request, consent or not. Local: 127.x.x.x, [::1], no
// host (file:), and any host name ending in "localhost".
export const blocked = !site
  ? 'no_site'
  : nav.webdriver && !('allowAutomation' in data)
    ? 'automation'
    : /^(127\.[\d.]+|\[::1\]|)$|localhost$/.test(location.hostname) &&
        !('allowLocalhost' in data)
      ? 'localhost'
      : ''
