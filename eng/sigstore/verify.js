#!/usr/bin/env node
// Verifies a sigstore bundle against a PEM public key with npm's @sigstore/verify, independently of our C# code.
// Key-based bundles (verificationMaterial.publicKey) carry no transparency log entry, no certificate and no
// timestamp, so every threshold is 0 and the trust root is empty; the key finder answers the bundle's hint.
//
// Usage: node eng/sigstore/verify.js --key key.pub --bundle bundle.json [--artifact manifest.json] [--subject sha256:<hex>]
//   --artifact  the signed message, for a messageSignature bundle (an image manifest's exact bytes)
//   --subject   for a DSSE bundle: the in-toto statement must name this digest
// Exit 0 and "verified" when it verifies; exit 1 and the reason on stderr when not; exit 2 for bad usage.
// @sigstore/verify is found through NODE_PATH (eng/install-deps.sh installs it).
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const { bundleFromJSON } = require('@sigstore/bundle');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) {
  args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
}
if (!args.key || !args.bundle) {
  console.error('usage: verify.js --key key.pub --bundle bundle.json [--artifact file] [--subject sha256:<hex>]');
  process.exit(2);
}

try {
  const publicKey = crypto.createPublicKey(fs.readFileSync(args.key));
  const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(args.bundle, 'utf8')));
  const artifact = args.artifact ? fs.readFileSync(args.artifact) : undefined;
  const keyFinder = () => ({ publicKey, validFor: () => true });
  const trust = toTrustMaterial({ certificateAuthorities: [], timestampAuthorities: [], tlogs: [], ctlogs: [] }, keyFinder);
  const verifier = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
  verifier.verify(toSignedEntity(bundle, artifact));
  if (args.subject && bundle.content.$case === 'dsseEnvelope') {
    const statement = JSON.parse(Buffer.from(bundle.content.dsseEnvelope.payload).toString('utf8'));
    const [algorithm, hex] = args.subject.split(':');
    if (!statement.subject.some((s) => s.digest && s.digest[algorithm] === hex)) {
      throw new Error(`the statement does not name ${args.subject}`);
    }
  }
  console.log('verified');
} catch (error) {
  console.error(`not verified: ${error.code ? error.code + ': ' : ''}${error.message}`);
  process.exit(1);
}
