// The visitor's data page (/me): what the visitor did here (the timeline of their
// events, newest first, with earlier ones loaded on request) and what was noticed
// (each signal with its evidence).

import { api, PAGE, query } from './me-api.js'
import { $, day, element, fill, say, show, timeElement, when } from './me-dom.js'

// Where the next request for earlier events starts, or null when there are none.
let nextEvents = null

const eventItem = (event) =>
  element('li', { 'data-event': event.event_id }, `${event.label} — `, timeElement(event.ts))

export const renderEvents = (events) => {
  fill($('timeline'), ...events.items.map(eventItem))
  $('timeline-summary').textContent = events.total
    ? `${events.total} event${events.total === 1 ? '' : 's'} linked to you, newest first.`
    : 'No event is linked to you.'
  nextEvents = events.next
  show('more-events', Boolean(nextEvents))
  show('timeline-section')
}

export const moreEvents = async () => {
  const button = $('more-events')
  button.disabled = true
  const response = await api(`/api/me/events?${query({ before: nextEvents, limit: PAGE })}`)
  button.disabled = false
  if (!response.ok) return say(`Could not load earlier events (HTTP ${response.status}).`)
  const page = await response.json()
  const items = page.items.map(eventItem)
  $('timeline').append(...items)
  nextEvents = page.next
  show('more-events', Boolean(nextEvents))
  say(`${items.length} earlier events shown.`)
  if (!nextEvents && items.length) {
    // The button is gone: keep the keyboard where the new events start.
    items[0].setAttribute('tabindex', '-1')
    items[0].focus()
  }
}

// The rule's sentence with the evidence times in the visitor's time zone.
const noticed = (signal) => {
  const inputs = signal.template_inputs
  if (!signal.noticed_template) return signal.noticed
  return signal.noticed_template
    .replace('{count}', inputs.count)
    .replace('{first}', when(inputs.first))
    .replace('{last}', when(inputs.last))
}

const signalArticle = (signal) => {
  const evidence = element(
    'ul',
    { class: 'evidence' },
    ...signal.evidence.map((item) =>
      element('li', {}, timeElement(item.ts), ` — ${item.detail || item.event_id}`),
    ),
  )
  const term = (label, ...value) => [element('dt', {}, label), element('dd', {}, ...value)]
  return element(
    'article',
    { class: 'signal', 'data-rule': signal.rule_id },
    element('h3', {}, signal.title),
    element(
      'dl',
      {},
      ...term('What we noticed', noticed(signal)),
      ...term('The evidence', evidence),
      ...term('Why it matters', signal.why),
      ...term('What the site may do', signal.may_do),
      ...term('Rule', `${signal.rule_id}, version ${signal.rule_version}`),
      ...term('Deleted on', day(signal.delete_on)),
    ),
  )
}

export const renderSignals = (signals) => {
  fill($('signals'), ...signals.map(signalArticle))
  const count = `${signals.length} signal${signals.length === 1 ? '' : 's'}`
  $('signals-summary').textContent = signals.length
    ? `${count} found in your visits. Each says what was noticed and from which events, ` +
      'why it matters and what the site may do with it.'
    : 'Nothing: no rule has found anything in your visits.'
  show('signals-section')
}

// What the site's own systems told about the customer account this browser was linked
// to: kind, action, its category and time (the API takes no free text).
const CATEGORY = ['category', 'topic', 'plan', 'commitment', 'survey', 'touchpoint']
const systemsLabel = (event) => {
  const what = `${event.kind.replace('_', ' ')} ${event.action.replace('_', ' ')}`
  const category = CATEGORY.map((name) => event.attributes[name]).find(Boolean)
  const amount = event.currency ? `, ${event.amount.toFixed(2)} ${event.currency}` : ''
  const label = `${what[0].toUpperCase()}${what.slice(1)}${category ? ` (${category})` : ''}`
  return `${label}${amount}`
}

export const renderSystems = (events, links) => {
  fill(
    $('systems'),
    ...events.map((event) =>
      element(
        'li',
        { 'data-server-event': event.event_id },
        `${systemsLabel(event)} — `,
        timeElement(event.at),
      ),
    ),
  )
  $('systems-summary').textContent =
    `This browser is linked to a customer account of the site (${links.length} link` +
    `${links.length === 1 ? '' : 's'}, by a pseudonym). ${events.length} event` +
    `${events.length === 1 ? '' : 's'} from the site's own systems ` +
    `${events.length === 1 ? 'is' : 'are'} linked to you, newest first.`
  show('systems-section', links.length > 0 || events.length > 0)
}
