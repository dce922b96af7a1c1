// A safe element descriptor: structure and short labels, never input values.

// Clicks on these are captured.
export const INTERACTIVE =
  'a,button,[role=button],[role=link],input,select,textarea,summary,[onclick]'
export const FIELDS = 'input,select,textarea'

// A CSS-like path of tag names from the nearest element with an id (or from
// html), cut to its last 300 characters (cutting each step cuts the whole).
export const selector = (element) =>
  (element.id
    ? '#' + element.id
    : (element.parentElement ? selector(element.parentElement) + '>' : '') + element.localName
  ).slice(-300)

// label: the aria-label, or else the trimmed text, of a clickable element; `plain`
// elements (form fields, whose text may hold a default value, and elements that
// are not clickable) get no text.
export const describe = (element, plain) => {
  const descriptor = {
    tag: element.localName,
    sel: selector(element),
    label:
      (element.ariaLabel || (!plain && element.textContent) || '')
        .replace(/\s+/g, ' ')
        .trim()
        .slice(0, 100) || undefined,
  }
  // id, role, href, and data-cs-<name> as cs-<name>.
  for (const { name, value } of element.attributes)
    /^(id|role|href)$|^data-cs-/.test(name) && (descriptor[name.replace('data-', '')] = value)
  return descriptor
}
