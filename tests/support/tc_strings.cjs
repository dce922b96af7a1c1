// Real TC strings, encoded by the IAB's own library (@iabtcf/core, installed in js_snippet/
// by make test) over a small vendor list, as one JSON document:
//   node tests/support/tc_strings.cjs js_snippet
const { createRequire } = require('node:module')
const path = require('node:path')
const load = createRequire(path.resolve(process.argv[2], 'package.json'))
const { GVL, TCModel, TCString } = load('@iabtcf/core')
const purposes = {}
for (let id = 1; id <= 11; id++) purposes[id] = { id, name: `Purpose ${id}`, description: '', illustrations: [] }
const vendor = (id, consent) => ({ id, name: `Vendor ${id}`, purposes: consent, legIntPurposes: [], flexiblePurposes: [], specialPurposes: [], features: [], specialFeatures: [], policyUrl: 'https://vendor.example/privacy', cookieMaxAgeSeconds: null, usesCookies: false, usesNonCookieAccess: false })
const gvl = new GVL({
  gvlSpecificationVersion: 3, vendorListVersion: 150, tcfPolicyVersion: 4, lastUpdated: '2026-11-01T00:00:00Z',
  purposes, specialPurposes: {}, features: {}, specialFeatures: { 1: { id: 1, name: 'Geo', description: '' } },
  vendors: { 12: vendor(12, [1, 8]), 755: vendor(755, [1, 2, 8]), 2000: vendor(2000, [1]) }, stacks: {}, dataCategories: {},
})
const encode = (consents, vendors, options = {}) => {
  const model = new TCModel(gvl)
  model.cmpId = 10; model.cmpVersion = 2; model.publisherCountryCode = 'DE'
  model.purposeConsents.set(consents)
  model.vendorConsents.set(vendors)
  Object.assign(model, options)
  return TCString.encode(model, options.segments ? { segments: options.segments } : undefined)
}
console.log(JSON.stringify({
  yes: encode([1, 8], [12, 755]),
  no: encode([2], []),
  publisher: encode([1, 8], [755], { segments: ['core', 'publisherTC'] }),
  disclosed: encode([1], [2000], { isServiceSpecific: false, segments: ['core', 'vendorsDisclosed'] }),
}))
