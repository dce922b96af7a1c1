// Builds the snippet, byte-for-byte reproducible:
//   dist/cs.js       the snippet: one minified IIFE (src/index.js and what it imports)
//   dist/cs-cmp.js   optional add-on: decisions from the site's CMP (src/cmp.js)
//   dist/cs-signals.js  optional add-on: clearsignal.signals() (src/signals.js)
//
//   node build.mjs [--outdir DIR]      (default: dist/)
//
// esbuild bundles each entry into one IIFE; terser minifies it (about 2% smaller
// after gzip than esbuild's own minifier on this code). Prints each file's
// minified and gzipped (level 9) sizes, and fails when cs.js gzipped is over the
// "gzipBudget" in package.json.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { minify } from 'terser'

const here = dirname(fileURLToPath(import.meta.url))
const outArg = process.argv.indexOf('--outdir')
const outDir = resolve(outArg > 0 ? process.argv[outArg + 1] : resolve(here, 'dist'))
const { gzipBudget } = JSON.parse(readFileSync(resolve(here, 'package.json'), 'utf8'))

const FILES = [
  { name: 'cs.js', entry: 'src/index.js', budget: gzipBudget },
  { name: 'cs-cmp.js', entry: 'src/cmp.js' },
  { name: 'cs-signals.js', entry: 'src/signals.js' },
]

mkdirSync(outDir, { recursive: true })
for (const { name, entry, budget } of FILES) {
  const bundled = await build({
    entryPoints: [resolve(here, entry)],
    bundle: true,
    format: 'iife',
    target: 'es2020',
    legalComments: 'none',
    charset: 'utf8',
    write: false,
    logLevel: 'warning',
  })
  const minified = await minify(bundled.outputFiles[0].text, {
    ecma: 2020,
    // Not toplevel: terser would then unwrap a small IIFE into globals.
    toplevel: false,
    compress: { passes: 2 },
    mangle: true,
    format: { comments: false },
  })
  const code = minified.code + '\n'
  const outFile = resolve(outDir, name)
  writeFileSync(outFile, code)
  const gzipped = gzipSync(code, { level: 9 }).length
  const limit = budget ? ` (budget ${budget})` : ''
  console.log(
    `${outFile}: ${Buffer.byteLength(code)} bytes minified, ${gzipped} bytes gzipped${limit}`,
  )
  if (gzipped > budget) {
    console.error(`${name} is over budget by ${gzipped - budget} bytes gzipped`)
    process.exitCode = 1
  }
}
