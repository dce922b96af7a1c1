// The on-demand piece, cs-more.js (more.js): code that not every page needs, loaded
// from the collector once a page needs any of it (the visitor has or gives an
// analytics grant, the page has a CMP, the browser has no Navigation API), under the
// same integrity guarantee as cs.js: the build writes the piece's content-addressed
// path and Subresource Integrity hash into cs.js (PIECE), and the browser runs it only
// when its bytes match. A page that never needs it never requests it.

import { doc, endpoint } from './config.js'

let loading

// Adds the piece's script to the page, once. Resolves when it has run, or could not
// be loaded (blocked, or other bytes than the build's).
export const loadMore = () => {
  if (!loading) {
    // [path, integrity], from the build.
    const [path, integrity] = PIECE
    loading = new Promise((done) => {
      const script = doc.createElement('script')
      doc.head.append(
        Object.assign(script, {
          src: endpoint + path,
          integrity,
          crossOrigin: 'anonymous',
          onload: done,
          onerror: done,
        }),
      )
    })
  }
  return loading
}
