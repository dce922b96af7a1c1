// Writing the visitor's data page (/me): elements, text, and times in the visitor's
// time zone. Text goes in as text nodes or textContent only: nothing from the server
// is ever parsed as HTML.

export const $ = (id) => document.getElementById(id)

export const element = (tag, attributes = {}, ...children) => {
  const node = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value)
  for (const child of children)
    node.append(child instanceof Node ? child : document.createTextNode(String(child)))
  return node
}
export const fill = (node, ...children) => node.replaceChildren(...children)
export const show = (id, visible = true) => ($(id).hidden = !visible)
export const say = (text) => ($('status').textContent = text)

const format = (options) => new Intl.DateTimeFormat('en-GB', options)
const dateFormat = format({ day: 'numeric', month: 'long' })
const yearFormat = format({ day: 'numeric', month: 'long', year: 'numeric' })
const timeFormat = format({ hour: '2-digit', minute: '2-digit', hour12: false })
// "4 March 10:12" in the visitor's time zone (with the year when it is not this one).
export const when = (iso) => {
  const moment = new Date(iso)
  const sameYear = moment.getFullYear() === new Date().getFullYear()
  return `${(sameYear ? dateFormat : yearFormat).format(moment)} ${timeFormat.format(moment)}`
}
export const day = (iso) => yearFormat.format(new Date(iso))
export const timeElement = (iso, text = when(iso)) => element('time', { datetime: iso }, text)
