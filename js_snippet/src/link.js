// Optional add-on, built to dist/cs-link.js: links this browser to the customer signed
// in on the page, by a token the site's backend signed for that customer (docs/api.md,
// "Linking a customer"). The collector records the link only while the visitor holds an
// analytics grant, and only as two pseudonyms. On signed-in pages, after cs.js:
//
//   <script defer data-site="shop" data-notice="3" src="/cs.js"></script>
//   <script defer src="/cs-link.js" data-link="v1.1767000000.QzIwOTMx.…"></script>
//
// or call clearsignal.link(token). A token is sent once per tab; without a browser id
// (no grant yet) it waits for one, for up to a minute. Nothing here throws into the page.

const tag = document.querySelector('script[data-site]')
const data = tag?.dataset || {}
const endpoint = data.endpoint || new URL(tag?.src, location).origin
const token = document.currentScript?.dataset.link

const stored = (area, name, value) => {
  try {
    if (value === undefined) return window[area][name]
    window[area][name] = value
  } catch {}
}

// Resolves to true once the collector recorded the link, false otherwise.
const link = (signed) =>
  new Promise((resolve) => {
    let tries = 120
    const attempt = () => {
      const visitor = stored('localStorage', 'cs_id')
      if (!visitor) return --tries > 0 ? setTimeout(attempt, 500) : resolve(false)
      fetch(endpoint + '/api/visitor/link', {
        method: 'POST',
        body: JSON.stringify({ site: data.site, visitor, link: signed }),
      })
        .then((response) => {
          if (response.ok) stored('sessionStorage', 'cs_link', signed)
          resolve(response.ok)
        })
        .catch(() => resolve(false))
    }
    attempt()
  })

// Both tags are deferred, so cs.js has run when this one runs; wait for it if not.
const install = (tries) => {
  if (!window.clearsignal) return tries && setTimeout(install, 100, tries - 1)
  window.clearsignal.link = link
  if (token && stored('sessionStorage', 'cs_link') !== token) link(token)
}
install(50)
