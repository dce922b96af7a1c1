// Configuration, read once from the <script> tag's data-* attributes, and the
// browser's privacy signals. README.md documents every attribute.

const script = document.currentScript
const data = script?.dataset || {}
const nav = navigator

export const site = data.site

// Where to send: the origin that served this file, unless data-endpoint names one.
export const endpoint = data.endpoint || new URL(script?.src, location).origin

export const debug = 'debug' in data
export const strict = 'strict' in data

// Notice version for decisions that do not name one (a CMP's, optOut()).
export const notice = data.notice || ''

// Event families that are captured: all unless data-auto lists some ("rage"
// covers rage_click, "form" form_*). Custom events (track) always are.
export const captures = (type) => ((data.auto ?? type) + 'custom').includes(type.split('_')[0])

// GPC or DNT: without an explicit grant nothing is sent.
export const privacySignal = nav.globalPrivacyControl ? 'gpc' : nav.doNotTrack == 1 ? 'dnt' : ''

// Reasons that stop every request, consent or not.
export const blocked = !site
  ? 'no_site'
  : nav.webdriver && !('allowAutomation' in data)
    ? 'automation'
    : /^(localhost|127\.[\d.]+|\[::1\]|)$|\.localhost$/.test(location.hostname) &&
        !('allowLocalhost' in data)
      ? 'localhost'
      : ''
