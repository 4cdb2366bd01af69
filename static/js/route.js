/* The dashboard's addresses: "#/orders/<id>" opens an order, "#/chat/<public key>" a
   conversation, "#/<tab>" a tab, so a merchant can share, bookmark or reopen them. Pure
   (no DOM): node runs its tests (tests/unit/test_timeline_words.py). */
(function (root) {
  const TABS = ["orders", "stats", "catalogue", "chat", "merchant"];

  /** "#/orders/ab%2Fc" -> {tab: "orders", id: "ab/c"}; anything else -> {tab: null, id: null}. */
  function parse(hash) {
    const parts = String(hash || "")
      .replace(/^#\/?/, "")
      .split("/");
    const tab = TABS.includes(parts[0]) ? parts[0] : null;
    if (!tab) return { tab: null, id: null };
    let id = null;
    try {
      id =
        parts.length > 1 && parts[1]
          ? decodeURIComponent(parts.slice(1).join("/"))
          : null;
    } catch {
      id = null;
    }
    return { tab, id };
  }

  /** {tab, id} -> "#/orders/ab%2Fc" (the id is one encoded segment). */
  function build(tab, id) {
    const base = `#/${TABS.includes(tab) ? tab : "orders"}`;
    return id ? `${base}/${encodeURIComponent(id)}` : base;
  }

  root.NB = Object.assign(root.NB || {}, {
    route: { parse, build, tabs: TABS },
  });
})(typeof window === "undefined" ? globalThis : window);
