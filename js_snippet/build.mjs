// Builds dist/cs.js: one minified IIFE, byte-for-byte reproducible.
//   node build.mjs [--out FILE]      (default: dist/cs.js)
// esbuild bundles src/ into one IIFE; terser minifies it (about 2% smaller after
// gzip than esbuild's own minifier on this code). Prints the minified and
// gzipped (level 9) sizes, and fails when the gzipped size is over the
// "gzipBudget" in package.json.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build } from 'esbuild'
import { minify } from 'terser'

const here = dirname(fileURLToPath(import.meta.url))
const outArg = process.argv.indexOf('--out')
const outFile = resolve(outArg > 0 ? process.argv[outArg + 1] : resolve(here, 'dist/cs.js'))

const bundled = await build({
  entryPoints: [resolve(here, 'src/index.js')],
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
  toplevel: true,
  compress: { passes: 2 },
  mangle: true,
  format: { comments: false },
})
const code = minified.code + '\n'

mkdirSync(dirname(outFile), { recursive: true })
writeFileSync(outFile, code)
const gzipped = gzipSync(code, { level: 9 }).length
const { gzipBudget } = JSON.parse(readFileSync(resolve(here, 'package.json'), 'utf8'))
const minifiedBytes = Buffer.byteLength(code)
console.log(
  `${outFile}: ${minifiedBytes} bytes minified, ${gzipped} bytes gzipped (budget ${gzipBudget})`,
)
if (gzipped > gzipBudget) {
  console.error(`over budget by ${gzipped - gzipBudget} bytes gzipped`)
  process.exitCode = 1
}
