// Checks a consent receipt in the visitor's own browser, with WebCrypto only:
//
//   1. the leaf hash is SHA-256(0x00 || entry) of the entry the receipt carries;
//   2. the checkpoint note is signed by the log's Ed25519 key (C2SP signed note,
//      the key given as a C2SP vkey "<name>+<hex key hash>+<base64(0x01 || key)>");
//   3. the inclusion proof leads from that leaf to the checkpoint's root hash
//      (RFC 9162 section 2.1.3.2, the hashing of RFC 6962).
//
// window.clearsignalProof.verifyReceipt(receipt, vkey) resolves to
// { status: 'verified' | 'pending' | 'failed' | 'unchecked', detail }. 'unchecked':
// this browser has no Ed25519 in WebCrypto, so only steps 1 and 3 ran; or no WebCrypto
// at all (browsers offer it to HTTPS pages only), so nothing ran here.
'use strict'

window.clearsignalProof = (() => {
  const encoder = new TextEncoder()
  const fromBase64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0))
  const toHex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
  const same = (a, b) => a.length === b.length && a.every((value, i) => value === b[i])

  const sha256 = async (...parts) => {
    const joined = new Uint8Array(parts.reduce((n, part) => n + part.length, 0))
    let offset = 0
    for (const part of parts) {
      joined.set(part, offset)
      offset += part.length
    }
    return new Uint8Array(await crypto.subtle.digest('SHA-256', joined))
  }

  const LEAF = Uint8Array.of(0)
  const NODE = Uint8Array.of(1)

  // The root an inclusion proof leads to, or null if the proof has the wrong shape.
  // Plain arithmetic, not bit operators: tree sizes may pass 2^32.
  const rootFromProof = async (index, size, leaf, proof) => {
    if (!(index >= 0 && index < size)) return null
    let fn = index
    let sn = size - 1
    let root = leaf
    for (const sibling of proof) {
      if (sn === 0) return null
      if (fn % 2 === 1 || fn === sn) {
        root = await sha256(NODE, sibling, root)
        while (fn % 2 === 0 && fn !== 0) {
          fn /= 2
          sn = Math.floor(sn / 2)
        }
      } else {
        root = await sha256(NODE, root, sibling)
      }
      fn = Math.floor(fn / 2)
      sn = Math.floor(sn / 2)
    }
    return sn === 0 ? root : null
  }

  // { name, keyHash, publicKey } of a C2SP vkey.
  const parseVerifierKey = (vkey) => {
    // The name and hash never hold '+'; the base64 key may, so split at the first two only.
    const first = vkey.indexOf('+')
    const second = vkey.indexOf('+', first + 1)
    const [name, keyHash, encoded] = [
      vkey.slice(0, first),
      vkey.slice(first + 1, second),
      vkey.slice(second + 1),
    ]
    const key = fromBase64(encoded)
    if (!/^[0-9a-f]{8}$/.test(keyHash) || key.length !== 33 || key[0] !== 1)
      throw new Error('the log key is not an Ed25519 verifier key')
    return { name, keyHash, publicKey: key.slice(1) }
  }

  // { text, origin, treeSize, rootHash, signature } of a checkpoint note signed by `key`.
  const parseNote = (note, key) => {
    const split = note.lastIndexOf('\n\n')
    if (split < 0) throw new Error('the checkpoint has no signature lines')
    const text = note.slice(0, split + 1)
    const [origin, size, root] = text.split('\n')
    const line = note
      .slice(split + 2)
      .split('\n')
      .find((candidate) => candidate.startsWith(`— ${key.name} `))
    if (!line) throw new Error(`the checkpoint is not signed by ${key.name}`)
    const blob = fromBase64(line.split(' ')[2])
    if (toHex(blob.slice(0, 4)) !== key.keyHash)
      throw new Error('the checkpoint is signed by another key of the same name')
    return {
      text,
      origin,
      treeSize: Number(size),
      rootHash: fromBase64(root),
      signature: blob.slice(4),
    }
  }

  // true, false, or null when this browser cannot check Ed25519 signatures.
  const signatureHolds = async (key, note) => {
    let publicKey
    try {
      publicKey = await crypto.subtle.importKey('raw', key.publicKey, { name: 'Ed25519' }, false, [
        'verify',
      ])
    } catch {
      return null
    }
    const text = encoder.encode(note.text)
    return crypto.subtle.verify({ name: 'Ed25519' }, publicKey, note.signature, text)
  }

  const verifyReceipt = async (receipt, vkey) => {
    const log = receipt.log || {}
    if (log.status !== 'included')
      return { status: 'pending', detail: 'not yet under a signed checkpoint' }
    if (!window.crypto?.subtle)
      return {
        status: 'unchecked',
        detail: 'this page is not served over HTTPS, so the browser offers no WebCrypto',
      }
    try {
      const leaf = await sha256(LEAF, encoder.encode(receipt.entry))
      if (toHex(leaf) !== receipt.leaf_hash)
        return { status: 'failed', detail: 'the leaf hash is not the hash of the entry' }
      const key = parseVerifierKey(vkey)
      const note = parseNote(log.checkpoint, key)
      if (note.origin !== key.name || note.treeSize !== log.tree_size)
        return { status: 'failed', detail: 'the checkpoint is for another log or tree size' }
      const proof = log.inclusion_proof.map(fromBase64)
      const root = await rootFromProof(log.log_index, note.treeSize, leaf, proof)
      if (!root || !same(root, note.rootHash))
        return { status: 'failed', detail: 'the inclusion proof does not lead to the signed root' }
      const signed = await signatureHolds(key, note)
      if (signed === false)
        return { status: 'failed', detail: 'the checkpoint signature does not verify' }
      const where = `entry ${log.log_index} of ${note.treeSize}`
      return signed
        ? { status: 'verified', detail: `${where}; root and Ed25519 signature checked` }
        : { status: 'unchecked', detail: `${where}; this browser cannot check Ed25519 signatures` }
    } catch (error) {
      return { status: 'failed', detail: String(error.message || error) }
    }
  }

  // Whether `proof` shows the tree of `second` leaves with root `secondHash` extends the
  // one of `first` leaves with root `firstHash` (RFC 9162 section 2.1.4.2).
  const consistent = async (first, second, firstHash, secondHash, proof) => {
    if (first === second) return proof.length === 0 && same(firstHash, secondHash)
    if (!(first > 0 && first < second) || proof.length === 0) return false
    const path = Number.isInteger(Math.log2(first)) ? [firstHash, ...proof] : proof
    let fn = first - 1
    let sn = second - 1
    while (fn % 2 === 1) {
      fn = Math.floor(fn / 2)
      sn = Math.floor(sn / 2)
    }
    let fr = path[0]
    let sr = path[0]
    for (const c of path.slice(1)) {
      if (sn === 0) return false
      if (fn % 2 === 1 || fn === sn) {
        fr = await sha256(NODE, c, fr)
        sr = await sha256(NODE, c, sr)
        while (fn % 2 === 0 && fn !== 0) {
          fn /= 2
          sn = Math.floor(sn / 2)
        }
      } else {
        sr = await sha256(NODE, sr, c)
      }
      fn = Math.floor(fn / 2)
      sn = Math.floor(sn / 2)
    }
    return sn === 0 && same(fr, firstHash) && same(sr, secondHash)
  }

  // Checks that the log today extends the checkpoint this browser verified before (`held`,
  // a signed note), with the consistency proof the collector serves, under the pinned key.
  // Resolves to { status: 'consistent' | 'failed' | 'unchecked', detail }.
  const verifyExtension = async (held, latest, vkey, fetchProof) => {
    if (!window.crypto?.subtle)
      return { status: 'unchecked', detail: 'the browser offers no WebCrypto to this page' }
    try {
      const key = parseVerifierKey(vkey)
      const [old, now] = [parseNote(held, key), parseNote(latest, key)]
      for (const note of [old, now])
        if ((await signatureHolds(key, note)) === false || note.origin !== key.name)
          return { status: 'failed', detail: 'a checkpoint is not signed by the pinned log key' }
      if (now.treeSize < old.treeSize)
        return {
          status: 'failed',
          detail: `the log now has ${now.treeSize} entries; it had ${old.treeSize}: it was rolled back`,
        }
      const proof = (await fetchProof(old.treeSize, now.treeSize)).map(fromBase64)
      if (!(await consistent(old.treeSize, now.treeSize, old.rootHash, now.rootHash, proof)))
        return {
          status: 'failed',
          detail: `the log of ${now.treeSize} entries does not extend the ${old.treeSize} checked before: it was rewritten`,
        }
      return {
        status: 'consistent',
        detail: `the log of ${now.treeSize} entries extends the ${old.treeSize} this browser checked before`,
      }
    } catch (error) {
      return { status: 'failed', detail: String(error.message || error) }
    }
  }

  return { verifyReceipt, verifyExtension, consistent, rootFromProof, parseVerifierKey }
})()
