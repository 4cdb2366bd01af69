// nostr-tools as an independent peer: reads a JSON list of operations on stdin,
// writes a JSON list of results on stdout (each {"ok": value} or {"error": message}).
import { readFileSync } from 'node:fs';
import { finalizeEvent, verifyEvent, getPublicKey, getEventHash } from 'nostr-tools/pure';
import * as nip04 from 'nostr-tools/nip04';
import * as nip44 from 'nostr-tools/nip44';
import * as nip17 from 'nostr-tools/nip17';
import * as nip59 from 'nostr-tools/nip59';
import * as nip19 from 'nostr-tools/nip19';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';

const sk = (hex) => hexToBytes(hex);

const encoders = {
  npub: (a) => nip19.npubEncode(a.hex),
  nsec: (a) => nip19.nsecEncode(sk(a.hex)),
  note: (a) => nip19.noteEncode(a.hex),
  nprofile: (a) => nip19.nprofileEncode({ pubkey: a.pubkey, relays: a.relays }),
  nevent: (a) =>
    nip19.neventEncode({ id: a.id, relays: a.relays, author: a.author, kind: a.kind }),
  naddr: (a) =>
    nip19.naddrEncode({ identifier: a.identifier, pubkey: a.pubkey, kind: a.kind, relays: a.relays }),
};

const decoded = (code) => {
  const { type, data } = nip19.decode(code);
  return { type, data: data instanceof Uint8Array ? bytesToHex(data) : data };
};

const ops = {
  pubkey: (a) => getPublicKey(sk(a.secret)),
  sign: (a) =>
    finalizeEvent(
      { kind: a.kind, content: a.content, tags: a.tags, created_at: a.created_at },
      sk(a.secret),
    ),
  verify: (a) => verifyEvent(a.event),
  hash: (a) => getEventHash(a.event),
  nip04_encrypt: (a) => nip04.encrypt(a.secret, a.pubkey, a.text),
  nip04_decrypt: (a) => nip04.decrypt(a.secret, a.pubkey, a.content),
  nip44_conversation_key: (a) => bytesToHex(nip44.getConversationKey(sk(a.secret), a.pubkey)),
  nip44_encrypt: (a) => nip44.encrypt(a.text, nip44.getConversationKey(sk(a.secret), a.pubkey)),
  nip44_decrypt: (a) => nip44.decrypt(a.payload, nip44.getConversationKey(sk(a.secret), a.pubkey)),
  nip17_wrap: (a) =>
    nip17.wrapManyEvents(sk(a.secret), [{ publicKey: a.recipient }], a.message, a.subject),
  nip59_wrap: (a) =>
    nip59.wrapEvent({ kind: a.kind, content: a.content, tags: a.tags }, sk(a.secret), a.recipient),
  nip59_unwrap: (a) => nip59.unwrapEvent(a.wrap, sk(a.secret)),
  nip19_encode: (a) => encoders[a.type](a),
  nip19_decode: (a) => decoded(a.code),
};

const run = (op) => {
  try {
    return { ok: ops[op.op](op) };
  } catch (error) {
    return { error: String(error && error.message ? error.message : error) };
  }
};

const requests = JSON.parse(readFileSync(0, 'utf8'));
process.stdout.write(JSON.stringify(requests.map(run)));
