/* The customer's key: a NIP-07 browser extension when present, else a key kept locally. */
(function () {
  const {
    generateSecretKey,
    getPublicKey,
    finalizeEvent,
    nip04,
    nip44,
    nip19,
    utils,
  } = window.NostrTools;
  const STORAGE = "nostrbazaar.customer.secret";

  /** A signer backed by a secret key held in this browser's localStorage. */
  function localSigner(secret) {
    const publicKey = getPublicKey(secret);
    const conversation = (peer) =>
      nip44.v2.utils.getConversationKey(secret, peer);
    return {
      kind: "local",
      publicKey,
      canNip44: true,
      nsec: () => nip19.nsecEncode(secret),
      signEvent: async (template) => finalizeEvent(template, secret),
      nip04Encrypt: async (peer, text) => nip04.encrypt(secret, peer, text),
      nip04Decrypt: async (peer, text) => nip04.decrypt(secret, peer, text),
      nip44Encrypt: async (peer, text) =>
        nip44.v2.encrypt(text, conversation(peer)),
      nip44Decrypt: async (peer, text) =>
        nip44.v2.decrypt(text, conversation(peer)),
    };
  }

  /** A signer that asks the NIP-07 extension (window.nostr) for every signature. */
  async function extensionSigner(nostr) {
    const publicKey = await nostr.getPublicKey();
    const need = (api, name) => {
      if (!api)
        throw new Error(`Your Nostr extension does not support ${name}.`);
      return api;
    };
    return {
      kind: "extension",
      publicKey,
      canNip44: Boolean(nostr.nip44),
      nsec: () => null,
      signEvent: (template) => nostr.signEvent(template),
      nip04Encrypt: (peer, text) =>
        need(nostr.nip04, "NIP-04").encrypt(peer, text),
      nip04Decrypt: (peer, text) =>
        need(nostr.nip04, "NIP-04").decrypt(peer, text),
      nip44Encrypt: (peer, text) =>
        need(nostr.nip44, "NIP-44").encrypt(peer, text),
      nip44Decrypt: (peer, text) =>
        need(nostr.nip44, "NIP-44").decrypt(peer, text),
    };
  }

  function storedSecret() {
    const hex = localStorage.getItem(STORAGE);
    if (hex && /^[0-9a-f]{64}$/.test(hex)) return utils.hexToBytes(hex);
    const secret = generateSecretKey();
    localStorage.setItem(STORAGE, utils.bytesToHex(secret));
    return secret;
  }

  /** Replace the local key with an imported nsec or hex key; returns the new signer. */
  function importSecret(text) {
    const value = (text || "").trim();
    let secret;
    if (/^[0-9a-f]{64}$/i.test(value))
      secret = utils.hexToBytes(value.toLowerCase());
    else {
      const decoded = nip19.decode(value);
      if (decoded.type !== "nsec")
        throw new Error("That is not an nsec private key.");
      secret = decoded.data;
    }
    localStorage.setItem(STORAGE, utils.bytesToHex(secret));
    return localSigner(secret);
  }

  async function load() {
    if (window.nostr && typeof window.nostr.getPublicKey === "function") {
      try {
        return await extensionSigner(window.nostr);
      } catch {
        // The extension refused or failed: fall back to a local key.
      }
    }
    return localSigner(storedSecret());
  }

  window.NB = Object.assign(window.NB || {}, {
    signer: { load, importSecret },
  });
})();
