// Builds the snippet, byte-for-byte reproducible:
//   dist/cs.js          the snippet's core: one minified IIFE (src/index.js and what it imports)
//   dist/cs-more.js     the on-demand piece, loaded by cs.js once a page needs it (src/more.js:
//                       forms, the CMP readers, navigations without the Navigation API)
//   dist/cs-signals.js  optional add-on: clearsignal.signals() (src/signals.js)
//   dist/cs-link.js     optional add-on: clearsignal.link(), a proven customer link (src/link.js)
//
//   node build.mjs [--outdir DIR]      (default: dist/)
//
// esbuild bundles each entry into one IIFE and renames every property whose name ends
// in "_" (the internal interface between cs.js and its pieces: one renaming for all
// files, so that they agree); the object of src/state.js becomes plain variables
// (flattenState, below); esbuild lowers the syntax to TARGET; UglifyJS minifies it
// (its defaults come out smaller after gzip than terser's best and esbuild's own
// minifier on this code). The piece is built first: cs.js gets its content-addressed
// path and Subresource Integrity hash (PIECE), so that it loads exactly those bytes.
// Prints each file's minified and gzipped (level 9) sizes, and the peers' trackers'
// for comparison; fails when a file gzipped is over its budget in package.json
// ("gzipBudget"), or when the modules of an entry import each other in a cycle.

import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { build, transform } from 'esbuild'
import UglifyJS from 'uglify-js'

const here = dirname(fileURLToPath(import.meta.url))
const outArg = process.argv.indexOf('--outdir')
const outDir = resolve(outArg > 0 ? process.argv[outArg + 1] : resolve(here, 'dist'))
const { gzipBudget } = JSON.parse(readFileSync(resolve(here, 'package.json'), 'utf8'))

// The browsers the snippet runs in.
const TARGET = 'es2020'

// The piece first: cs.js names it.
const FILES = [
  { name: 'cs-more.js', entry: 'src/more.js', piece: true },
  { name: 'cs.js', entry: 'src/index.js' },
  { name: 'cs-signals.js', entry: 'src/signals.js' },
  { name: 'cs-link.js', entry: 'src/link.js' },
]

// Other trackers, measured in the same run for comparison (devDependencies, never
// part of what is served).
const PEERS = ['@plausible-analytics/tracker/plausible.js', 'posthog-js/dist/array.js']

// Throws when the modules of a bundle (esbuild's metafile) import each other in a
// cycle, naming the modules of the cycle.
const checkAcyclic = ({ inputs }) => {
  const done = new Set()
  const path = []
  const visit = (module) => {
    if (path.includes(module))
      throw new Error(`import cycle: ${[...path.slice(path.indexOf(module)), module].join(' -> ')}`)
    if (done.has(module)) return
    path.push(module)
    for (const { path: imported } of inputs[module].imports) visit(imported)
    path.pop()
    done.add(module)
  }
  for (const module in inputs) visit(module)
}

// The modules share their mutable state through one object, `state` (src/state.js).
// UglifyJS turns an object into plain variables only while none of its properties is
// written to (hoist_props), so it would keep this one, and every state.<name> would
// cost the `x.` of a property access. The object never leaves the bundle and is only
// used as state.<name>, so each property becomes a variable of its own here,
// state_<name>, which UglifyJS then mangles as it does any local. Throws when `state`
// is used in another way (passed on, spread, indexed by a computed key): flattened,
// that would be another program.
const flattenState = (code) => {
  const {
    AST_Dot,
    AST_ObjectKeyVal,
    AST_Symbol,
    AST_SymbolDeclaration,
    AST_SymbolRef,
    AST_VarDef,
    List,
    TreeTransformer,
    TreeWalker,
  } = UglifyJS
  const ast = UglifyJS.parse(code)
  ast.figure_out_scope()
  const declarations = []
  const names = new Set()
  ast.walk(
    new TreeWalker((node) => {
      if (node instanceof AST_Symbol) names.add(node.name)
      if (node instanceof AST_VarDef && node.name.name === 'state') declarations.push(node)
    }),
  )
  if (!declarations.length) return code // an entry without the state module
  const [declaration] = declarations
  if (
    declarations.length > 1 ||
    !declaration.value?.properties?.every((property) => property instanceof AST_ObjectKeyVal)
  )
    throw new Error('src/state.js: expected one `state`, an object literal of plain properties')
  const definition = declaration.name.definition()
  const keys = new Set(declaration.value.properties.map((property) => property.key))
  const variable = (key) => {
    const name = `state_${key}`
    if (names.has(name)) throw new Error(`flattening state: ${name} is taken`)
    return name
  }
  const flat = ast.transform(
    new TreeTransformer((node) => {
      if (node === declaration)
        return List.splice(
          declaration.value.properties.map(
            ({ key, value }) =>
              new AST_VarDef({
                name: new declaration.name.CTOR({ name: variable(key) }),
                // `undefined` needs no initializer, but a const does.
                value:
                  value.print_to_string() === 'void 0' && !/Const/.test(declaration.name.TYPE)
                    ? null
                    : value,
              }),
          ),
        )
      if (
        node instanceof AST_Dot &&
        node.expression instanceof AST_SymbolRef &&
        node.expression.definition() === definition
      ) {
        if (!keys.has(node.property))
          throw new Error(`state.${node.property} is not declared in src/state.js`)
        return new AST_SymbolRef({ name: variable(node.property) })
      }
      if (node instanceof AST_SymbolDeclaration || node instanceof AST_SymbolRef)
        if (node.definition() === definition)
          throw new Error('`state` is used other than as state.<name>: it cannot be flattened')
    }),
  )
  return flat.print_to_string()
}

const gzipped = (code) => gzipSync(code, { level: 9 }).length

// The URL path the collector serves a file's bytes under for good (its name with the
// first 16 hex digits of their SHA-256), as collector/visitor/snippet_files.py
// computes it, and their SRI hash (SHA-256: a third shorter than /snippet.json's
// SHA-384, and as strong for this).
const pinned = (name, code) => {
  const digest = createHash('sha256').update(code).digest()
  return [
    `/${name.replace(/\.js$/, '')}.${digest.toString('hex').slice(0, 16)}.js`,
    `sha256-${digest.toString('base64')}`,
  ]
}

mkdirSync(outDir, { recursive: true })
let pinnedPiece = []
let mangleCache = {}
for (const { name, entry, piece } of FILES) {
  // No syntax lowered yet: esbuild lowers `state.x ||= y` through a temporary that
  // holds the object, which flattenState would have to refuse.
  const bundled = await build({
    entryPoints: [resolve(here, entry)],
    bundle: true,
    format: 'iife',
    target: 'esnext',
    legalComments: 'none',
    charset: 'utf8',
    write: false,
    metafile: true,
    logLevel: 'warning',
    mangleProps: /[^_]_$/,
    mangleCache,
    define: { PIECE: JSON.stringify(pinnedPiece) },
  })
  mangleCache = bundled.mangleCache
  checkAcyclic(bundled.metafile)
  const lowered = await transform(flattenState(bundled.outputFiles[0].text), {
    target: TARGET,
    charset: 'utf8',
    logLevel: 'warning',
  })
  // Not toplevel: the IIFE's own variables are local already and mangled as such.
  const minified = UglifyJS.minify(lowered.code, { compress: { passes: 2 } })
  if (minified.error) throw minified.error
  const code = `${minified.code}\n`
  if (piece) pinnedPiece = pinned(name, code)
  const outFile = resolve(outDir, name)
  writeFileSync(outFile, code)
  const budget = gzipBudget[name]
  const size = gzipped(code)
  const limit = budget ? ` (budget ${budget})` : ''
  console.log(
    `${outFile}: ${Buffer.byteLength(code)} bytes minified, ${size} bytes gzipped${limit}`,
  )
  if (!budget || size > budget) {
    console.error(
      budget ? `${name} is over budget by ${size - budget} bytes gzipped` : `${name} has no budget`,
    )
    process.exitCode = 1
  }
}
for (const peer of PEERS) {
  const code = readFileSync(resolve(here, 'node_modules', peer))
  console.log(`peer ${peer}: ${code.length} bytes, ${gzipped(code)} bytes gzipped`)
}
