// The on-demand piece, built to cs-more.js and loaded by cs.js (loader.js) once a page
// needs any of it. Each part starts on its own: recording a consent decision, the
// interaction detail and form tracking that need an analytics grant, the CMP readers,
// and in a browser without the Navigation API the History API's navigations. They
// reach cs.js through window.clearsignal.core_ (pieces.js).

import './decision.js'
import './detail.js'
import './forms.js'
import './cmp.js'
import './history.js'
