/* Direct messages for the market: send over NIP-17 or NIP-04, read both back. */
(function () {
  const { getEventHash, verifyEvent, nip59 } = window.NostrTools;
  const TWO_DAYS = 2 * 24 * 60 * 60;

  function now() {
    return Math.floor(Date.now() / 1000);
  }

  function randomPast() {
    return now() - Math.floor(Math.random() * TWO_DAYS);
  }

  /** Seal and gift-wrap one rumor for `recipient` (NIP-59); the signer signs the seal. */
  async function wrapFor(signer, rumor, recipient) {
    const sealed = await signer.nip44Encrypt(recipient, JSON.stringify(rumor));
    const seal = await signer.signEvent({
      kind: 13,
      created_at: randomPast(),
      tags: [],
      content: sealed,
    });
    return nip59.createWrap(seal, recipient);
  }

  /** NIP-17: a kind 14 rumor wrapped for the recipient, plus a copy for ourselves. */
  async function nip17Events(signer, recipient, text) {
    const rumor = {
      kind: 14,
      created_at: now(),
      tags: [["p", recipient]],
      content: text,
      pubkey: signer.publicKey,
    };
    rumor.id = getEventHash(rumor);
    return [
      await wrapFor(signer, rumor, recipient),
      await wrapFor(signer, rumor, signer.publicKey),
    ];
  }

  async function nip04Event(signer, recipient, text) {
    const content = await signer.nip04Encrypt(recipient, text);
    return signer.signEvent({
      kind: 4,
      created_at: now(),
      tags: [["p", recipient]],
      content,
    });
  }

  /** Open a gift wrap addressed to us; returns the rumor, or throws if anything is off. */
  async function unwrap(signer, wrap) {
    const seal = JSON.parse(
      await signer.nip44Decrypt(wrap.pubkey, wrap.content),
    );
    if (seal.kind !== 13 || !verifyEvent(seal)) throw new Error("bad seal");
    const rumor = JSON.parse(
      await signer.nip44Decrypt(seal.pubkey, seal.content),
    );
    if (rumor.pubkey !== seal.pubkey)
      throw new Error("rumor author does not match its seal");
    return rumor;
  }

  function peerOf(event, me) {
    if (event.pubkey !== me) return event.pubkey;
    const tag = event.tags.find((item) => item[0] === "p");
    return tag ? tag[1] : null;
  }

  /** Any DM event (kind 4 or 1059) as {id, from, to, peer, text, created_at, transport}. */
  async function read(signer, event) {
    const me = signer.publicKey;
    if (event.kind === 4) {
      const peer = peerOf(event, me);
      if (!peer) return null;
      const text = await signer.nip04Decrypt(peer, event.content);
      return message(event, event.pubkey, peer, text, "nip04", me);
    }
    if (event.kind === 1059) {
      const rumor = await unwrap(signer, event);
      if (rumor.kind !== 14) return null;
      const peer = peerOf(rumor, me);
      return message(rumor, rumor.pubkey, peer, rumor.content, "nip17", me);
    }
    return null;
  }

  function message(event, from, peer, text, transport, me) {
    return {
      id: event.id,
      from,
      peer,
      incoming: from !== me,
      text,
      created_at: event.created_at,
      transport,
    };
  }

  window.NB = Object.assign(window.NB || {}, {
    dm: { nip17Events, nip04Event, read, now },
  });
})();
