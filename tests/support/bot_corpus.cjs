// The user agents of the bot corpus test, from the packages installed in js_snippet/
// (make test installs them), and isbot's verdict on each, as one JSON document:
//   node tests/support/bot_corpus.cjs js_snippet
const { createRequire } = require('node:module')
const path = require('node:path')

const load = createRequire(path.resolve(process.argv[2], 'package.json'))
const { isbot } = load('isbot')
const crawlers = [...new Set(load('crawler-user-agents').flatMap((c) => c.instances || []))]
const browsers = [
  ...new Set([
    ...load('top-user-agents'),
    ...load('top-user-agents/desktop'),
    ...load('top-user-agents/mobile'),
    ...load(path.join(path.dirname(load.resolve('user-agents')), 'user-agents.json')).map(
      (entry) => entry.userAgent,
    ),
  ]),
]
process.stdout.write(
  JSON.stringify({
    crawlers,
    browsers,
    isbot: {
      crawlers: crawlers.filter((ua) => isbot(ua)).length,
      browsers: browsers.filter((ua) => isbot(ua)).length,
    },
  }),
)
