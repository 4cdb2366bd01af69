// A stand-in NIP-07 browser extension for the tests: window.nostr backed by a fixed key.
// It uses the page's own nostr-tools, looked up at call time (after the page loaded it).
window.nostr = (() => {
  const secretHex = "__SECRET__";
  const tools = () => window.NostrTools;
  const secret = () => tools().utils.hexToBytes(secretHex);
  const conversation = (peer) => tools().nip44.v2.utils.getConversationKey(secret(), peer);
  return {
    getPublicKey: async () => tools().getPublicKey(secret()),
    signEvent: async (template) => tools().finalizeEvent(template, secret()),
    nip04: {
      encrypt: async (peer, text) => tools().nip04.encrypt(secret(), peer, text),
      decrypt: async (peer, text) => tools().nip04.decrypt(secret(), peer, text),
    },
    nip44: {
      encrypt: async (peer, text) => tools().nip44.v2.encrypt(text, conversation(peer)),
      decrypt: async (peer, text) => tools().nip44.v2.decrypt(text, conversation(peer)),
    },
  };
})();
