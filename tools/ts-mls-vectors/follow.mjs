// ts-mls as a member of Canopy's groups on ts-mls's post-quantum suites (0x004F to 0x0054):
//
//   node follow.mjs keypackages KEY_PACKAGES.json PRIVATE.json
//   cargo run -p canopy-interop --features pq --example pq_vectors -- ts-mls-groups KEY_PACKAGES.json GROUPS.json
//   node follow.mjs follow GROUPS.json PRIVATE.json
//
// The first step writes a ts-mls KeyPackage per suite (and, apart, its private keys); Canopy
// members add it to a group and commit (an update, an add, another update, a remove); the
// last step joins ts-mls from Canopy's Welcome, processes every commit, and fails unless its
// epoch authenticator equals Canopy's in every epoch.
import fs from "node:fs"
import * as m from "ts-mls"

const [mode, first, second] = process.argv.slice(2)
const hex = (b) => Buffer.from(b).toString("hex")
const unhex = (s) => new Uint8Array(Buffer.from(s, "hex"))
const utf8 = (s) => new TextEncoder().encode(s)
const suites = Object.entries(m.ciphersuites).filter(([, id]) => id >= 0x004f && id <= 0x0054)
const implOf = async (id) => {
  const [name] = suites.find(([, s]) => s === id)
  return m.getCiphersuiteImpl(m.getCiphersuiteFromName(name))
}

if (mode === "keypackages") {
  const kps = []
  const secrets = []
  for (const [name, id] of suites) {
    const impl = await m.getCiphersuiteImpl(m.getCiphersuiteFromName(name))
    const kp = await m.generateKeyPackage(
      { credentialType: "basic", identity: utf8("ts-mls") },
      m.defaultCapabilities(),
      m.defaultLifetime,
      [],
      impl,
    )
    const bytes = m.encodeMlsMessage({ keyPackage: kp.publicPackage, wireformat: "mls_key_package", version: "mls10" })
    kps.push({ cipher_suite: id, key_package: hex(bytes) })
    const p = kp.privatePackage
    secrets.push({
      cipher_suite: id,
      init: hex(p.initPrivateKey),
      hpke: hex(p.hpkePrivateKey),
      signature: hex(p.signaturePrivateKey),
    })
  }
  fs.writeFileSync(first, JSON.stringify(kps, null, 2) + "\n")
  fs.writeFileSync(second, JSON.stringify(secrets, null, 2) + "\n")
} else if (mode === "follow") {
  const groups = JSON.parse(fs.readFileSync(first, "utf8"))
  const secrets = JSON.parse(fs.readFileSync(second, "utf8"))
  for (const g of groups) {
    const impl = await implOf(g.cipher_suite)
    const s = secrets.find((x) => x.cipher_suite === g.cipher_suite)
    const privateKeys = { initPrivateKey: unhex(s.init), hpkePrivateKey: unhex(s.hpke), signaturePrivateKey: unhex(s.signature) }
    const [kp] = m.decodeMlsMessage(unhex(g.key_package), 0)
    const [w] = m.decodeMlsMessage(unhex(g.welcome), 0)
    let state = await m.joinGroup(w.welcome, kp.keyPackage, privateKeys, m.emptyPskIndex, impl)
    const check = (epoch, want) => {
      const got = hex(state.keySchedule.epochAuthenticator)
      if (got !== want) throw new Error(`suite ${g.cipher_suite}, epoch ${epoch}: ts-mls ${got}, Canopy ${want}`)
    }
    check(0, g.initial_epoch_authenticator)
    let epoch = 0
    for (const e of g.epochs) {
      const [msg] = m.decodeMlsMessage(unhex(e.commit), 0)
      const r = await m.processMessage(msg, state, m.emptyPskIndex, m.acceptAll, impl)
      r.consumed?.forEach(m.zeroOutUint8Array)
      state = r.newState
      check(++epoch, e.epoch_authenticator)
    }
    console.log(`suite ${g.cipher_suite}: ts-mls followed Canopy's group through ${epoch} commits`)
  }
} else {
  throw new Error("usage: node follow.mjs keypackages KPS PRIV | follow GROUPS PRIV")
}
