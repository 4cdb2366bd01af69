/* Formatting shared by both pages: sats, dates, keys. */
(function () {
  const { nip19 } = window.NostrTools;

  function sats(value) {
    if (value === null || value === undefined || value === "") return "–";
    return `${Number(value).toLocaleString("en-US")} sats`;
  }

  /** A JSON number as a plain decimal for a form field: 1e-8 -> "0.00000001". */
  function decimal(value) {
    if (value === null || value === undefined || value === "") return "";
    const number = Number(value);
    if (!Number.isFinite(number)) return String(value);
    if (!/e/i.test(String(number))) return String(number);
    return number.toFixed(8).replace(/0+$/, "").replace(/\.$/, "");
  }

  function msatToSats(msat) {
    if (msat === null || msat === undefined) return null;
    return Math.floor(Number(msat) / 1000);
  }

  function money(amount, currency) {
    if (amount === null || amount === undefined || amount === "") return "–";
    if (!currency || currency.toLowerCase() === "sat") return sats(amount);
    try {
      const style = { style: "currency", currency, currencyDisplay: "code" };
      return new Intl.NumberFormat("en-US", style).format(Number(amount));
    } catch {
      return `${amount} ${currency}`;
    }
  }

  function date(seconds) {
    if (!seconds) return "–";
    return new Date(Number(seconds) * 1000).toLocaleString();
  }

  function shortId(id, size = 8) {
    if (!id) return "";
    return id.length > size * 2 ? `${id.slice(0, size)}…${id.slice(-4)}` : id;
  }

  function npub(hex) {
    try {
      return nip19.npubEncode(hex);
    } catch {
      return hex || "";
    }
  }

  /** Accept a 64-char hex public key or an npub; return hex, or null. */
  function publicKeyHex(text) {
    const value = (text || "").trim();
    if (/^[0-9a-f]{64}$/i.test(value)) return value.toLowerCase();
    try {
      const decoded = nip19.decode(value);
      if (decoded.type === "npub") return decoded.data;
      if (decoded.type === "nprofile") return decoded.data.pubkey;
    } catch {
      return null;
    }
    return null;
  }

  const PUBLICATION = {
    unpublished: "not published",
    pending: "publishing…",
    sent: "on relays",
    failed: "publishing failed",
    external: "found on relays",
  };

  /** What the relays know of an object, from its `publication` block. */
  function publication(item) {
    const status =
      (item && item.publication && item.publication.status) || "unpublished";
    return PUBLICATION[status] || status;
  }

  /** Why an object's publication waits, in words ("" once it is on the relays). */
  function publicationWhy(item) {
    const relays = window.NB && window.NB.relays;
    return relays ? relays.publicationWhy(item && item.publication) : "";
  }

  const NO_IMAGE = "static/images/no-image.svg"; // under the app's base path

  /** An <img> whose picture cannot be loaded shows a placeholder, not a broken icon. */
  function imageFallback(event) {
    const image = event && event.target;
    if (!image || image.dataset.fallback) return;
    image.dataset.fallback = "1";
    image.src = `${(window.NB && NB.config && NB.config.base) || ""}/${NO_IMAGE}`;
    image.alt = "No picture";
  }

  async function copy(text) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      return false;
    }
  }

  window.NB = Object.assign(window.NB || {}, {
    format: {
      sats,
      decimal,
      msatToSats,
      money,
      date,
      shortId,
      npub,
      publicKeyHex,
      copy,
      publication,
      publicationWhy,
      imageFallback,
    },
    components: (window.NB && window.NB.components) || {},
    config: JSON.parse(document.getElementById("nb-config").textContent),
  });
})();
