// The browser's privacy signals, GPC or DNT: without an explicit grant nothing is sent
// (events.js), and a CMP's grant is not taken as one (cmp.js).

export const privacySignal = navigator.globalPrivacyControl
  ? 'gpc'
  : navigator.doNotTrack == 1 && 'dnt'
