// The visitor's data page (/me): what the site did about their signals. Each case says
// when the site's team was told and about what, then each step taken and when, with
// the team's notes.

import { $, element, fill, show, timeElement } from './me-dom.js'

const STEPS = {
  claimed: 'took on the case',
  released: 'handed the case back',
  contacted: 'contacted you',
  resolved: 'marked it resolved',
  dismissed: 'closed it without further action',
  reopened: 'reopened it',
  noted: 'added a note',
  acknowledged: 'acknowledged it',
}
const STATUS = {
  open: 'open',
  contacted: 'you were contacted',
  resolved: 'resolved',
  dismissed: 'closed',
}

const stepItem = (step) =>
  element(
    'li',
    { 'data-step': step.step },
    `${step.by[0].toUpperCase()}${step.by.slice(1)} ${STEPS[step.step] ?? step.step} — `,
    timeElement(step.at),
    step.note ? `: “${step.note}”` : '',
  )

export const renderCases = (cases, rules) => {
  const titles = Object.fromEntries(rules.map((rule) => [rule.id, rule.title]))
  fill(
    $('cases'),
    ...cases.map((item) =>
      element(
        'li',
        { 'data-case': item.case_id, 'data-status': item.status },
        element(
          'p',
          {},
          `The site's team was told about “${titles[item.rule_id] ?? item.rule_id}” on `,
          timeElement(item.opened_at),
          `. Now: ${STATUS[item.status] ?? item.status}.`,
        ),
        element('ol', {}, ...item.steps.map(stepItem)),
      ),
    ),
  )
  $('cases-summary').textContent =
    'Because you allow personalization, the site may act on what we noticed. ' +
    `${cases.length} case${cases.length === 1 ? '' : 's'}, oldest first.`
  show('cases-section', cases.length > 0)
}
