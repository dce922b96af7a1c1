// The demo shop's own script (/demo/shop.js): its consent banner, and the link to
// the visitor's data page. Loaded after cs.js and cs-signals.js (all deferred).
//
// The banner shows until the visitor decides. A grant is recorded by the snippet
// (clearsignal.consent, method "banner"), which keeps the receipt in this browser; a
// refusal records nothing on the server (there is no id to record it under), so the
// shop remembers it itself, in localStorage "demo_choice". "Privacy choices" in the
// footer opens the banner again; declining then withdraws the consent given before.
;(() => {
  'use strict'
  const CHOICE = 'demo_choice'
  const $ = (id) => document.getElementById(id)
  const banner = $('consent-banner')
  const status = $('consent-status')

  const remembered = () => {
    try {
      return localStorage.getItem(CHOICE)
    } catch {
      return null
    }
  }
  const remember = (choice) => {
    try {
      localStorage.setItem(CHOICE, choice)
    } catch {
      // storage blocked: the banner asks again on the next page
    }
  }

  const say = (text) => {
    status.textContent = text
  }

  const close = () => {
    banner.hidden = true
    $('main').focus()
  }

  const decide = async (analytics, personalization) => {
    for (const button of banner.querySelectorAll('button')) button.disabled = true
    const version = banner.dataset.noticeVersion
    const hadConsent = clearsignal.receipt() !== null
    const receipt = await clearsignal.consent({ analytics, personalization }, version, 'banner')
    for (const button of banner.querySelectorAll('button')) button.disabled = false
    if (analytics && !receipt) {
      say('Your choice could not be recorded just now; please try again in a moment.')
      return
    }
    remember(analytics ? 'granted' : 'declined')
    close()
    if (!analytics) {
      say(
        hadConsent
          ? 'Consent withdrawn: what was linked to you is being erased; visits are counted anonymously again.'
          : 'Declined: your visits are only counted anonymously.',
      )
    } else {
      say(
        personalization
          ? 'Thank you: analytics and personalization allowed. Your receipt is kept in this browser.'
          : 'Thank you: analytics allowed. Your receipt is kept in this browser.',
      )
    }
  }

  const start = () => {
    const link = $('your-data')
    if (clearsignal.explainUrl) link.href = clearsignal.explainUrl()
    if (!banner) return
    $('accept-analytics').addEventListener('click', () => decide(true, false))
    $('accept-all').addEventListener('click', () => decide(true, true))
    $('decline').addEventListener('click', () => decide(false, false))
    const reopen = $('privacy-choices')
    reopen.hidden = false
    reopen.addEventListener('click', () => {
      banner.hidden = false
      $('accept-analytics').focus()
    })
    if (clearsignal.receipt() === null && remembered() !== 'declined') banner.hidden = false
  }

  // cs.js runs first (deferred scripts run in order); without it there is nothing to
  // consent to, and the banner stays hidden.
  if (window.clearsignal) start()
})()
