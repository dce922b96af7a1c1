// Part of the on-demand piece (more.js), which cs.js loads for a visitor with an
// analytics grant (form events need one): form start, submit and abandon, with the
// names of the fields typed in, never their values.

import { selector } from './element.js'

const core = window.clearsignal.core_
const started = new Map() // form -> the names of its fields typed in, until submitted

// A form's event: its name (or selector) and the names of the fields typed in.
const formEvent = (type, form) =>
  core.record_(type, {
    props: {
      form: form.getAttribute('name') || selector(form),
      fields: [...(started.get(form) || [])].join(),
    },
  })

const handlers = {
  input(field) {
    const form = field.form
    if (!form) return
    // A field without a name or id counts under its type ("text", "select-one").
    const name = field.name || field.id || field.type
    if (started.has(form)) started.get(form).add(name)
    else {
      // The first field typed in starts the form.
      started.set(form, new Set([name]))
      formEvent('form_start', form)
    }
  },
  submit(form) {
    formEvent('form_submit', form)
    started.delete(form)
  },
}

// Leaving the page (a navigation, or pagehide): every form started and not submitted
// is abandoned.
core.pageEnds_.push((leaving) => {
  if (!leaving) return
  for (const [form] of started) formEvent('form_abandon', form)
  started.clear()
})

for (const type in handlers)
  addEventListener(
    type,
    core.safe_((event) => handlers[type](event.target)),
    true,
  )
