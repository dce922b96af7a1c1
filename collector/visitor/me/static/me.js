// The visitor's data explanation page (/me?site=<id>), its entry module. The other
// modules: me-api.js (the site, the browser id and requests), me-dom.js (writing
// the page), me-timeline.js (events, the site's systems, signals); me-proof.js, a classic script,
// checks receipts in the browser.
//
// Reads the browser id that the site's snippet keeps in this origin's storage
// (localStorage.cs_id, written after an analytics grant) and sends it only in the
// Authorization header of same-origin requests, never in a URL:
//
//   GET    /api/me/about?site=   what the site collects and why (no id needed)
//   GET    /api/me?site=&limit=  everything held, with the newest events
//   GET    /api/me/events?site=&before=&limit=   earlier events
//   POST   /api/consent          a changed decision (method "page")
//   DELETE /api/me?site=         delete everything; then GET /api/erasures/<id>
//
// Everything is written into the page with textContent: nothing from the server is
// ever parsed as HTML.

import {
  api,
  browserId,
  forgetId,
  heldCheckpoint,
  holdCheckpoint,
  idStored,
  keepReceipt,
  PAGE,
  pinnedLogKey,
  query,
  site,
} from './me-api.js'
import { renderCases } from './me-cases.js'
import { $, day, element, fill, say, show, timeElement, when } from './me-dom.js'
import { moreEvents, renderEvents, renderSignals, renderSystems } from './me-timeline.js'

// What the site collects and why (/api/me/about), and everything held (/api/me).
let about = null
let held = null

// ---- the part that is the same for everyone --------------------------------------

const renderAbout = () => {
  const name = about.site.name
  $('site-name').textContent = name
  document.title = `Your data on ${name} — ClearSignal`
  fill($('collected'), ...about.collected.map((line) => element('li', {}, line)))
  fill($('never-collected'), ...about.never_collected.map((line) => element('li', {}, line)))
  $('anonymous-counting').textContent = about.anonymous_counting
  for (const purpose of about.purposes) {
    const hint = $(`hint-${purpose.id}`)
    if (hint) hint.textContent = purpose.description
  }
  fill(
    $('rules'),
    ...about.rules.map((rule) =>
      element(
        'li',
        {},
        element('strong', {}, rule.title),
        ` (${rule.id}, version ${rule.version}): ${rule.why}`,
      ),
    ),
  )
  renderRetention()
}

const renderRetention = () => {
  const retention = about.retention
  const between = held?.events.deleted_between
  const expires = held?.consent.current.expires_at
  const lines = [
    `Events: each is deleted ${retention.events_days} days after it happened` +
      (between ? `; yours between ${day(between[0])} and ${day(between[1])}.` : '.'),
    `Signals: each is deleted ${retention.signals_days} days after its newest evidence` +
      (held?.signals.length ? '; the date is given with each signal above.' : '.'),
    `Consent: a decision holds for ${retention.consent_days} days; then the site asks again` +
      (expires ? ` (yours: ${day(expires)}).` : '.'),
    `Consent records and receipts: ${retention.consent_records}`,
  ]
  fill($('retention'), ...lines.map((line) => element('li', {}, line)))
}

const showNothing = (reason) => {
  $('nothing-reason').textContent = reason
  const sections = [
    'consent',
    'receipts',
    'timeline-section',
    'systems-section',
    'signals-section',
    'cases-section',
  ]
  for (const id of [...sections, 'actions']) show(id, false)
  show('nothing')
}

// ---- consent and receipts ---------------------------------------------------------

const CHOICE = { true: 'allowed', false: 'not allowed' }

const renderConsent = () => {
  const current = held.consent.current
  const notice = about.site.notice
  const link = element('a', { href: notice.uri }, `the notice, version ${notice.version}`)
  if (current.recorded_at) {
    fill(
      $('consent-summary'),
      `Your current decision was recorded on ${when(current.recorded_at)}, ` +
        `under notice version ${current.notice_version}. Read `,
      link,
      '.',
    )
  } else {
    fill($('consent-summary'), 'You have no consent in force on this site. Read ', link, '.')
  }
  const items = about.purposes.map((purpose) => {
    let state = CHOICE[current[purpose.id]]
    if (purpose.id === 'measurement')
      state = purpose.needs_consent ? CHOICE[current.analytics] : 'no consent needed'
    const basis = purpose.lawful_basis.replace('_', ' ')
    return element(
      'li',
      {},
      element('strong', {}, purpose.id[0].toUpperCase() + purpose.id.slice(1)),
      `: ${state} (lawful basis: ${basis}). ${purpose.description}`,
    )
  })
  fill($('purposes'), ...items)
  $('choice-analytics').checked = current.analytics
  $('choice-personalization').checked = current.personalization
  show('consent-form', idStored())
  show('consent')
}

const KIND = { consent: 'Decision', withdrawal: 'Withdrawal', erasure: 'Erasure carried out' }

const decisionText = (record) =>
  record.kind === 'erasure'
    ? KIND.erasure
    : `${KIND[record.kind]}: analytics ${CHOICE[record.analytics]}, ` +
      `personalization ${CHOICE[record.personalization]}`

const statusCell = (verification) => {
  const signed = verification.checkpoint_time
    ? ` signed ${when(new Date(verification.checkpoint_time * 1000).toISOString())}`
    : ''
  const text = `${verification.status}: ${verification.detail}${signed}`
  return element('td', { class: verification.status }, text)
}

// The newest checkpoint among the receipts: today's view of the log.
const latestCheckpoint = () =>
  held.receipts
    .map((item) => item.receipt.log)
    .filter((log) => log.status === 'included')
    .sort((a, b) => b.tree_size - a.tree_size)[0]?.checkpoint

const consistencyProof = async (from, to) => {
  const response = await api(`/api/transparency/consistency?from=${from}&to=${to}`, {
    authorize: false,
  })
  if (!response.ok) throw new Error(`the collector gave no consistency proof (${response.status})`)
  return (await response.json()).proof
}

// Whether the log today extends the checkpoint this browser checked on an earlier visit.
const renderExtension = async (key) => {
  const shown = $('log-extension')
  const latest = latestCheckpoint()
  const before = heldCheckpoint()
  if (!latest) {
    shown.textContent = ''
    return
  }
  const proof = window.clearsignalProof
  const result = before
    ? await proof.verifyExtension(before, latest, key.vkey, consistencyProof)
    : await proof.verifyExtension(latest, latest, key.vkey, consistencyProof)
  shown.className = result.status === 'consistent' ? 'verified' : result.status
  shown.textContent = before
    ? `The log since your last visit: ${result.status}: ${result.detail}.`
    : "This browser now keeps the log's latest checkpoint; on your next visit this page checks " +
      'that the log still extends it, that nothing recorded so far was changed or removed.'
  if (result.status === 'consistent') holdCheckpoint(latest)
}

const renderReceipts = () => {
  const key = pinnedLogKey(held.log.verifier_key)
  const byId = new Map(held.receipts.map((item) => [item.receipt.receipt_id, item]))
  const rows = held.consent.records.map((record) => {
    const item = byId.get(record.receipt_id)
    const browserCell = element('td', { class: 'pending' }, item ? 'checking…' : 'not listed')
    const proof = window.clearsignalProof
    if (item)
      proof.verifyReceipt(item.receipt, key.vkey).then((result) => {
        browserCell.className = result.status
        browserCell.textContent = `${result.status}: ${result.detail}`
      })
    return element(
      'tr',
      { 'data-receipt': record.receipt_id },
      element('td', {}, timeElement(record.recorded_at)),
      element('td', {}, decisionText(record)),
      element('td', {}, record.notice_version),
      item ? statusCell(item.verification) : element('td', {}, 'beyond the newest 50'),
      browserCell,
    )
  })
  fill($('receipt-rows'), ...rows)
  $('receipts-how').textContent =
    'Every decision is a leaf of a public, append-only log (RFC 6962). Each receipt is ' +
    'checked twice against the latest signed checkpoint: by the collector, and again here ' +
    'in your browser with WebCrypto (the SHA-256 hash of the recorded entry, its inclusion ' +
    'proof up to the checkpoint root, and the Ed25519 signature of the checkpoint).'
  const changed =
    key.vkey === held.log.verifier_key
      ? ''
      : ` The collector now names another key (${held.log.verifier_key}): receipts are ` +
        'checked with the pinned one.'
  $('log-key').textContent = `Log key, pinned by ${key.by}: ${key.vkey}.${changed}`
  show('receipts', rows.length > 0)
  renderExtension(key)
}

// ---- loading --------------------------------------------------------------------------

const render = () => {
  show('nothing', false)
  renderConsent()
  renderReceipts()
  renderEvents(held.events)
  renderSystems(held.server_events, held.customer_links)
  renderSignals(held.signals)
  renderCases(held.cases ?? [], about.rules)
  renderRetention()
  show('actions')
}

const load = async () => {
  const response = await api(`/api/me?${query({ limit: PAGE })}`)
  if (response.status === 200) {
    held = await response.json()
    render()
    return true
  }
  held = null
  if (response.status === 404 || response.status === 401)
    showNothing(
      'Nothing is held for the id this browser keeps: no consent record, event or signal ' +
        'on this site.',
    )
  else if (response.status === 429) say('Too many requests; wait a minute and reload the page.')
  else say(`Your data could not be loaded (HTTP ${response.status}); reload to try again.`)
  return false
}

// ---- changing consent ---------------------------------------------------------------

const decide = async (analytics, personalization) => {
  const body = JSON.stringify({
    site,
    visitor: browserId,
    purposes: { analytics, personalization: analytics && personalization },
    notice_version: about.site.notice.version,
    method: 'page',
    client_ts: Date.now(),
  })
  const response = await api('/api/consent', { method: 'POST', body, authorize: false })
  if (response.status !== 201) {
    say(`Your choice was not recorded (HTTP ${response.status}); try again.`)
    return
  }
  const text = await response.text()
  const receipt = JSON.parse(text)
  if (analytics) keepReceipt(text)
  else forgetId()
  await load()
  say(
    analytics
      ? `Saved. Receipt ${receipt.receipt_id}.`
      : `Consent withdrawn (receipt ${receipt.receipt_id}). Your events and signals are ` +
          'erased within minutes; this browser no longer keeps your id.',
  )
}

// ---- download and delete ------------------------------------------------------------

const download = async () => {
  const response = await api(`/api/me?${query({})}`)
  if (!response.ok) return say(`The download failed (HTTP ${response.status}).`)
  const blob = new Blob([await response.text()], { type: 'application/json' })
  const url = URL.createObjectURL(blob)
  const link = element('a', { href: url, download: `clearsignal-${site}-my-data.json` })
  document.body.append(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10000)
  say('Your data was downloaded as one JSON file.')
}

const sleep = (ms) => new Promise((wake) => setTimeout(wake, ms))

const erase = async () => {
  show('confirm-delete', false)
  const response = await api(`/api/me?${query({})}`, { method: 'DELETE' })
  if (response.status !== 202) return say(`Deletion was refused (HTTP ${response.status}).`)
  const answer = await response.json()
  forgetId()
  say('Deleting… your request is recorded; waiting for the erasure receipt.')
  let erasure = null
  for (let attempt = 0; attempt < 120 && !erasure; attempt++) {
    const check = await api(answer.erasure.receipt_url, { authorize: false })
    if (check.ok) erasure = await check.json()
    else await sleep(1000)
  }
  if (!erasure) return say('Your deletion is scheduled; reload this page later for the receipt.')
  const removed = Object.entries(erasure.rows_deleted)
    .map(([table, rows]) => `${rows} ${table}`)
    .join(', ')
  $('erasure-detail').textContent =
    `Erased on ${when(erasure.recorded_at)}: ${removed || 'nothing was left to remove'}. ` +
    `Erasure receipt ${erasure.receipt_id}, for request ${erasure.request_receipt_id}.`
  await load()
  show('erasure')
  show('delete', false)
  say(
    'Everything is deleted: no event or signal of yours is left. ' +
      'This browser no longer keeps your id.',
  )
  $('erasure-title').setAttribute('tabindex', '-1')
  $('erasure-title').focus()
}

// ---- start ----------------------------------------------------------------------------

const start = async () => {
  $('consent-form').addEventListener('submit', (event) => {
    event.preventDefault()
    decide($('choice-analytics').checked, $('choice-personalization').checked)
  })
  $('withdraw').addEventListener('click', () => decide(false, false))
  $('more-events').addEventListener('click', moreEvents)
  $('download').addEventListener('click', download)
  $('delete').addEventListener('click', () => {
    show('confirm-delete')
    $('confirm-yes').focus()
  })
  $('confirm-no').addEventListener('click', () => {
    show('confirm-delete', false)
    $('delete').focus()
  })
  $('confirm-yes').addEventListener('click', erase)

  if (!site)
    return say('This page needs to know the site: open it from the site’s link (/me?site=<id>).')
  const response = await fetch(`/api/me/about?${query({})}`, { cache: 'no-store' })
  if (!response.ok) return say(`There is no site “${site}” here.`)
  about = await response.json()
  renderAbout()
  if (!browserId)
    return showNothing(
      'This browser keeps no ClearSignal id for this site: you have not allowed analytics ' +
        'here, or you withdrew it. Nothing the site holds can be linked to you.',
    )
  await load()
}

start().catch((error) => say(`Something went wrong: ${error.message}`))
