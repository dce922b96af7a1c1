import { data } from './config.js'

// Debug output, only with data-debug: console.debug('[clearsignal]', reason, ...details).
export const log = (...details) => 'debug' in data && console.debug('[clearsignal]', ...details)

// Wraps an entry point (listener, timer, API call) so that nothing throws into the page.
export const safe =
  (fn) =>
  (...args) => {
    try {
      return fn(...args)
    } catch (error) {
      log('error', error)
    }
  }
