/* Relay health in the header, in plain words ("Relay down: orders wait"): the server's
   relays and the merchant's own, from GET /health and the websocket's `relay` news. */
(function () {
  const POLL_SECONDS = 15;

  NB.components["nb-relay-health"] = {
    template: "#nb-relay-health",
    props: { merchant: { type: Object, required: true } },
    data() {
      return { known: {}, serverRelays: [] };
    },
    computed: {
      /** url -> state of the relays this merchant depends on. */
      states() {
        const urls = [
          ...new Set([...this.serverRelays, ...(this.merchant.relays || [])]),
        ];
        return Object.fromEntries(
          urls.map((url) => [url, this.known[url] || "configured"]),
        );
      },
      look() {
        return NB.relays.summary(this.states);
      },
      rows() {
        return Object.entries(this.states).map(([url, state]) => ({
          url,
          host: NB.relays.host(url),
          ...NB.relays.describe(state),
        }));
      },
    },
    methods: {
      async poll() {
        try {
          const health = await NB.api.get("/health", "");
          this.serverRelays = Object.keys(health.relays || {});
          this.known = { ...this.known, ...(health.relays || {}) };
        } catch {
          // the "Live" chip already says when the server cannot be reached
        }
      },
      onLive(event) {
        const { kind, data } = event.detail;
        if (kind === "hello" && data.relays)
          this.known = { ...this.known, ...data.relays };
        if (kind === "relay" && data.url)
          this.known = { ...this.known, [data.url]: data.status };
      },
    },
    mounted() {
      this.poll();
      this.timer = setInterval(() => this.poll(), POLL_SECONDS * 1000);
      this.listener = (event) => this.onLive(event);
      NB.bus.addEventListener("live", this.listener);
    },
    unmounted() {
      clearInterval(this.timer);
      NB.bus.removeEventListener("live", this.listener);
    },
  };
})();
