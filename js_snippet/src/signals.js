// Optional add-on, built to dist/cs-signals.js: clearsignal.signals(), a visitor's own
// signals (POST /api/visitor/signals), for a site that offers help on the page, for
// example explaining shipping costs after a shipping-cost shock. The collector
// answers only while the visitor's personalization consent holds. Also
// clearsignal.explainUrl(), the address of the visitor's data explanation page
// (/me?site=<id>; cs.js has no room for it within its size budget). Place it after cs.js:
//
//   <script defer data-site="shop" data-notice="3" src="/cs.js"></script>
//   <script defer src="/cs-signals.js"></script>
//
// The browser id is the one cs.js keeps after a recorded grant (localStorage cs_id);
// it goes in the request body, never in a URL. Nothing here throws into the page.

const tag = document.querySelector('script[data-site]')
const data = tag?.dataset || {}
const endpoint = data.endpoint || new URL(tag?.src, location).origin

// Resolves to the list of signals; [] without a browser id, without personalization
// consent (403), or on any error.
const signals = () => {
  let visitor
  try {
    visitor = localStorage.cs_id
  } catch {}
  return visitor
    ? fetch(endpoint + '/api/visitor/signals', {
        method: 'POST',
        body: JSON.stringify({ site: data.site, visitor }),
      })
        .then((response) => response.json())
        .then((answer) => answer.signals || [])
        .catch(() => [])
    : Promise.resolve([])
}

// The page that shows the visitor everything held about them. It reads the browser id
// from this origin's storage, so the collector must answer on the site's origin.
const explainUrl = () => endpoint + '/me?site=' + data.site

// Both tags are deferred, so cs.js has run when this one runs; wait for it if not.
const install = (tries) =>
  window.clearsignal
    ? Object.assign(window.clearsignal, { signals, explainUrl })
    : tries && setTimeout(install, 100, tries - 1)
install(50)
