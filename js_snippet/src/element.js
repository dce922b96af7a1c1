// A safe element descriptor: structure and short labels, never input values.
// Without a grant an element is described by its structure only (describe); the
// piece adds the rest (detail.js).

// Clicks on these are captured.
export const INTERACTIVE =
  'a,button,[role=button],[role=link],input,select,textarea,summary,[onclick]'
export const FIELDS = 'input,select,textarea'
const DOWNLOAD = /\.(pdf|csv|docx?|xlsx?|zip|dmg|exe)$/i

// What a click on a clickable element is: a download (a link with a download
// attribute, or to a file of these types), a link to another host, or a click.
export const clickType = (element) =>
  element.attributes.download || DOWNLOAD.test(element.pathname)
    ? 'download'
    : element.host && element.host != location.host
      ? 'outbound'
      : 'click'

// A CSS-like path of tag names from the nearest element with an id (or from
// html), cut to its last 300 characters (cutting each step cuts the whole).
export const selector = (element) =>
  (element.id
    ? '#' + element.id
    : (element.parentElement ? selector(element.parentElement) + '>' : '') + element.localName
  ).slice(-300)

// An element as it is built: its tag, and its id, role, href and data-cs-<name> (as
// cs-<name>) attributes. With an analytics grant the piece describes more (detail.js):
// its text and its place on the page.
export const describe = (element) => {
  const descriptor = { tag: element.localName }
  for (const { name, value } of element.attributes)
    /^(id|role|href)$|^data-cs-/.test(name) && (descriptor[name.replace('data-', '')] = value)
  return descriptor
}

// The aria-label, or else the trimmed text, of a clickable element; `plain` elements
// (form fields, whose text may hold a default value, and elements that are not
// clickable) get no text.
export const label = (element, plain) =>
  (element.ariaLabel || (!plain && element.textContent) || '')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 100) || undefined
