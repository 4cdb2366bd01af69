/* Relay health in plain words: one relay's state ("down: connection refused"), all of them
   as one header summary ("No relay connected"), and why a publication waits ("waiting:
   relay.example.org did not answer"). Pure (no DOM): node runs its tests
   (tests/unit/test_relay_words.py). */
(function (root) {
  /** A relay URL without its scheme and trailing slash, for short sentences. */
  function host(url) {
    return String(url || "")
      .replace(/^wss?:\/\//, "")
      .replace(/\/$/, "");
  }

  const PLAIN = [
    [/refused/i, "not answering (connection refused)"],
    [/timed? ?out|timeout/i, "not answering (timed out)"],
    [/getaddrinfo|not known|resolve|no address/i, "its address was not found"],
    [/certificate|ssl|tls/i, "the secure connection failed"],
    [/auth/i, "asks us to authenticate"],
    [/rate.?limit|too many/i, "asks us to slow down"],
    [/not connected/i, "not connected"],
  ];

  /** A socket error as a merchant would say it ("not answering (connection refused)"). */
  function plain(reason) {
    const text = String(reason || "")
      .replace(/^(error:\s*)+/i, "")
      .trim();
    const known = PLAIN.find(([pattern]) => pattern.test(text));
    if (known) return known[1];
    return text.replace(/\[Errno \d+\]\s*/g, "") || "no answer";
  }

  /** The pool's state ("connected", "error: refused", ...) as {text, tone, up}. */
  function describe(state) {
    const value = String(
      (state && typeof state === "object"
        ? state.status || state.state
        : state) || "unknown",
    );
    if (value === "connected")
      return { text: "connected", tone: "positive", up: true };
    if (value === "connecting")
      return { text: "connecting…", tone: "warning", up: false };
    if (value === "configured")
      return { text: "not started yet", tone: "grey-7", up: false };
    if (value === "auth-required")
      return { text: "asks us to authenticate", tone: "warning", up: false };
    if (value.startsWith("error:"))
      return {
        text: `down: ${plain(value)}`,
        tone: "negative",
        up: false,
      };
    if (value === "disconnected")
      return { text: "down", tone: "negative", up: false };
    return { text: value, tone: "grey-7", up: false };
  }

  /** url -> state, as one summary for the header: {label, short, tone, detail, icon}. */
  function summary(states) {
    const urls = Object.keys(states || {});
    const up = urls.filter((url) => describe(states[url]).up).length;
    if (!urls.length)
      return {
        label: "No relays",
        short: "0",
        tone: "grey-7",
        icon: "cloud_off",
        detail: "No relay is configured: customers cannot reach the shop.",
      };
    if (up === urls.length)
      return {
        label: urls.length === 1 ? "Relay connected" : `${up} relays connected`,
        short: `${up}/${urls.length}`,
        tone: "positive",
        icon: "cloud_done",
        detail: "Orders arrive and your answers go out.",
      };
    if (up === 0)
      return {
        label: urls.length === 1 ? "Relay down" : "No relay connected",
        short: `0/${urls.length}`,
        tone: "negative",
        icon: "cloud_off",
        detail:
          "Customers' orders and your answers wait until a relay is back; nothing is lost.",
      };
    return {
      label: `${urls.length - up} of ${urls.length} relays down`,
      short: `${up}/${urls.length}`,
      tone: "warning",
      icon: "cloud_queue",
      detail: "Orders still arrive through the connected relays.",
    };
  }

  /**
   * Why an object's publication is not on the relays yet, in words ("" when it is):
   * each relay's answer, or that no relay has been reached yet.
   */
  function publicationWhy(publication) {
    const status = (publication && publication.status) || "unpublished";
    if (!["pending", "failed"].includes(status)) return "";
    const answers = Object.entries((publication && publication.relays) || {});
    const refused = answers
      .filter(([, answer]) => !(answer && answer.ok))
      .map(
        ([url, answer]) => `${host(url)}: ${plain(answer && answer.message)}`,
      );
    const lead = status === "failed" ? "Not published" : "Waiting";
    if (!answers.length)
      return `${lead}: no relay reached yet; it is sent when one connects.`;
    if (!refused.length) return "";
    const next =
      status === "failed"
        ? "Republish from the Merchant tab."
        : "Trying again.";
    return `${lead}: ${refused.join("; ")}. ${next}`;
  }

  root.NB = Object.assign(root.NB || {}, {
    relays: { host, plain, describe, summary, publicationWhy },
  });
})(typeof window === "undefined" ? globalThis : window);
