// Passive-client vectors (the working group's format) for ts-mls's post-quantum suites: for
// each Canopy KeyPackage of INPUTS (written by `pq_vectors ts-mls-inputs`), ts-mls members
// make a group, add it, and commit; every Welcome, commit and epoch authenticator is ts-mls's.
//
//   node generate.mjs INPUTS.json OUT.json
import fs from "node:fs"
import * as m from "ts-mls"

const [inputsPath, outPath] = process.argv.slice(2)
const inputs = JSON.parse(fs.readFileSync(inputsPath, "utf8"))
const hex = (b) => Buffer.from(b).toString("hex")
const unhex = (s) => new Uint8Array(Buffer.from(s, "hex"))
const utf8 = (s) => new TextEncoder().encode(s)
const cred = (name) => ({ credentialType: "basic", identity: utf8(name) })
const encode = (msg) => m.encodeMlsMessage(msg)
const commitMessage = (r) => encode(r.commit)

async function member(name, impl) {
  return m.generateKeyPackage(cred(name), m.defaultCapabilities(), m.defaultLifetime, [], impl)
}

async function commit(state, impl, extraProposals = []) {
  const r = await m.createCommit(
    { state, cipherSuite: impl },
    { extraProposals, ratchetTreeExtension: true, wireAsPublicMessage: true },
  )
  r.consumed.forEach(m.zeroOutUint8Array)
  return r
}

async function receive(state, bytes, impl) {
  const [msg] = m.decodeMlsMessage(bytes, 0)
  const r = await m.processMessage(msg, state, m.emptyPskIndex, m.acceptAll, impl)
  r.consumed?.forEach(m.zeroOutUint8Array)
  return r.newState
}

const out = []
for (const input of inputs) {
  const name = Object.entries(m.ciphersuites).find(([, id]) => id === input.cipher_suite)[0]
  const impl = await m.getCiphersuiteImpl(m.getCiphersuiteFromName(name))
  const [decoded] = m.decodeMlsMessage(unhex(input.key_package), 0)
  const passive = decoded.keyPackage

  const alice = await member("alice", impl)
  let a = await m.createGroup(utf8("ts-mls pq vectors"), alice.publicPackage, alice.privatePackage, [], impl)
  const bob = await member("bob", impl)
  let r = await commit(a, impl, [
    { proposalType: "add", add: { keyPackage: passive } },
    { proposalType: "add", add: { keyPackage: bob.publicPackage } },
  ])
  a = r.newState
  const welcome = encode({ welcome: r.welcome, wireformat: "mls_welcome", version: "mls10" })
  let b = await m.joinGroup(r.welcome, bob.publicPackage, bob.privatePackage, m.emptyPskIndex, impl, a.ratchetTree)
  const initial = a.keySchedule.epochAuthenticator
  const epochs = []
  const record = (state, commitBytes) =>
    epochs.push({ proposals: [], commit: hex(commitBytes), epoch_authenticator: hex(state.keySchedule.epochAuthenticator) })

  // 1. Alice commits with a path (an empty commit is a full commit in ts-mls).
  r = await commit(a, impl)
  a = r.newState
  let bytes = commitMessage(r)
  b = await receive(b, bytes, impl)
  record(a, bytes)
  // 2. Bob adds Carol.
  const carol = await member("carol", impl)
  r = await commit(b, impl, [{ proposalType: "add", add: { keyPackage: carol.publicPackage } }])
  b = r.newState
  bytes = commitMessage(r)
  a = await receive(a, bytes, impl)
  let c = await m.joinGroup(r.welcome, carol.publicPackage, carol.privatePackage, m.emptyPskIndex, impl, b.ratchetTree)
  record(b, bytes)
  // 3. Carol commits with a path.
  r = await commit(c, impl)
  c = r.newState
  bytes = commitMessage(r)
  a = await receive(a, bytes, impl)
  b = await receive(b, bytes, impl)
  record(c, bytes)
  // 4. Alice removes Bob (leaf 2: Alice 0, the passive client 1, Bob 2, Carol 3).
  r = await commit(a, impl, [{ proposalType: "remove", remove: { removed: 2 } }])
  a = r.newState
  bytes = commitMessage(r)
  c = await receive(c, bytes, impl)
  record(a, bytes)
  for (const [who, s] of [["carol", c]]) {
    if (hex(s.keySchedule.epochAuthenticator) !== hex(a.keySchedule.epochAuthenticator)) {
      throw new Error(`${who} disagrees with alice on suite ${input.cipher_suite}`)
    }
  }

  out.push({
    cipher_suite: input.cipher_suite,
    external_psks: [],
    key_package: input.key_package,
    signature_priv: input.signature_priv,
    encryption_priv: input.encryption_priv,
    init_priv: input.init_priv,
    welcome: hex(welcome),
    ratchet_tree: null,
    initial_epoch_authenticator: hex(initial),
    epochs,
  })
  console.log(`suite ${input.cipher_suite} (${name}): done`)
}
fs.writeFileSync(outPath, JSON.stringify(out, null, 2) + "\n")
