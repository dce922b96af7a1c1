// The on-demand piece, cs-more.js (more.js): code that not every page needs, loaded
// from the collector once a page needs any of it (a visitor types in a form, the page
// has a CMP, the browser has no Navigation API), under the same integrity guarantee
// as cs.js: the build writes the piece's content-addressed path and Subresource
// Integrity hash into cs.js (PIECE), and the browser runs it only when its bytes
// match. A page that never needs it never requests it.

import { doc, endpoint } from './config.js'

let loaded

// Adds the piece's script to the page, once.
export const loadMore = () => {
  if (loaded) return
  loaded = 1
  // [path, integrity], from the build.
  const [path, integrity] = PIECE
  const script = doc.createElement('script')
  script.src = endpoint + path
  script.integrity = integrity
  script.crossOrigin = 'anonymous'
  doc.head.append(script)
}
