/* The merchant dashboard: sign-in state, the merchant, live notifications. */
(function () {
  const orderName = (data) =>
    `Order ${NB.format.shortId(data.order_id || data.id)}`;

  const URGENT_ALONE = [
    "wallet_unreachable",
    "relay_down",
    "job_failed",
    "payment_unmatched",
  ];

  /** A toast for a live notification: [message, type, sticky], or null for none. */
  const TOASTS = {
    // A refused order is no news to act on: it waits under Orders > Refused, without a toast.
    order: (data) =>
      data.status === "rejected"
        ? null
        : [`New order ${NB.format.shortId(data.id)}`, "info"],
    payment: (data) =>
      data.refund_needed
        ? [
            `${orderName(data)} needs a refund of ${NB.format.sats(
              NB.format.msatToSats(data.amount_msat),
            )}: ${data.reason || "see the order"}`,
            "warning",
            true,
          ]
        : [`${orderName(data)} is paid`, "positive"],
    // "paid" has the payment's own toast; a refusal waits under Orders > Refused.
    status: (data) =>
      ["paid", "rejected"].includes(data.status)
        ? null
        : [`${orderName(data)}: ${NB.orders.label(data.status)}`, "info"],
    message: () => ["New message from a customer", "info"],
    notification: (data) => {
      // Refunds and failed messages have toasts of their own (payment, outbox).
      const note = data.action === "new" && data.notification;
      if (!note || !URGENT_ALONE.includes(note.type)) return null;
      return [
        note.title,
        note.priority === "critical" ? "negative" : "warning",
        true,
      ];
    },
    outbox: (data) =>
      data.status === "failed"
        ? [
            `A message could not be published: ${data.error || "no relay took it"}`,
            "negative",
            true,
          ]
        : null,
  };

  const LIVE_LOOK = {
    live: ["positive", "wifi", "Live"],
    connecting: ["grey-7", "sync", "Connecting…"],
    offline: ["negative", "wifi_off", "Offline"],
    refused: ["negative", "block", "Refused"],
    waiting: ["grey-7", "hourglass_empty", "Waiting for the merchant"],
    stopped: ["grey-7", "wifi_off", "Not connected"],
  };

  /** The dashboard's root component: the standalone page's, and LNbits' (lnbits-dashboard.js). */
  const rootOptions = () => ({
    data() {
      return {
        signedIn: Boolean(NB.api.getKey()),
        merchant: null,
        merchantLoaded: false,
        loadError: "",
        tab: NB.route.parse(location.hash).tab || "orders",
        unread: 0,
        live: { status: "stopped" },
        serverWarnings: [],
      };
    },
    computed: {
      liveColor() {
        return (LIVE_LOOK[this.live.status] || LIVE_LOOK.stopped)[0];
      },
      liveIcon() {
        return (LIVE_LOOK[this.live.status] || LIVE_LOOK.stopped)[1];
      },
      /** The label without the retry countdown, for a phone's header. */
      liveShort() {
        return (LIVE_LOOK[this.live.status] || LIVE_LOOK.stopped)[2];
      },
      liveLabel() {
        const label = (LIVE_LOOK[this.live.status] || LIVE_LOOK.stopped)[2];
        return this.live.retryIn
          ? `${label}: retrying in ${this.live.retryIn} s`
          : label;
      },
    },
    methods: {
      /** The operator's warnings from /health (e.g. the fake wallet with public relays). */
      async loadServerWarnings() {
        try {
          const health = await NB.api.get("/health", "");
          this.serverWarnings = (health && health.warnings) || [];
        } catch {
          this.serverWarnings = [];
        }
      },
      async loadMerchant() {
        this.loadError = "";
        try {
          this.merchant = (await NB.api.get("/merchant")) || null;
        } catch (err) {
          if (err.status === 401) return this.signOut();
          if (err.status !== 404) this.loadError = err.message;
        } finally {
          this.merchantLoaded = true;
        }
      },
      /** A notification about an order: open it at its own address. */
      openOrder(orderId) {
        location.hash = NB.route.build("orders", orderId);
      },
      /** The address changed (a link, back/forward, a pasted URL): show what it names. */
      onHash() {
        const route = NB.route.parse(location.hash);
        if (!route.tab) return;
        this.tab = route.tab;
        NB.bus.dispatchEvent(new CustomEvent("route", { detail: route }));
      },
      onSignedIn() {
        this.signedIn = true;
        this.start();
      },
      onMerchant(merchant) {
        this.merchant = merchant;
        if (this.connection && this.live.status === "waiting")
          this.connection.reconnect();
      },
      start() {
        this.loadMerchant();
        this.connection = new NB.LiveConnection(
          NB.api.getKey(),
          (message) => this.onLive(message),
          (state) => (this.live = state),
        );
        this.connection.start();
      },
      signOut() {
        NB.api.clearKey();
        if (this.connection) this.connection.stop();
        this.signedIn = false;
        this.merchant = null;
        this.merchantLoaded = false;
      },
      onLive(notification) {
        const kind = notification.kind || notification.type;
        const data = notification.data || {};
        NB.bus.dispatchEvent(
          new CustomEvent("live", { detail: { kind, data } }),
        );
        const toast = TOASTS[kind] && TOASTS[kind](data);
        if (!toast) return;
        const [text, type, sticky] = toast;
        this.$q.notify({
          message: text,
          type,
          timeout: sticky ? 0 : 3000,
          actions: sticky
            ? [{ icon: "close", color: "white", "aria-label": "Dismiss" }]
            : [],
        });
      },
    },
    watch: {
      tab(value) {
        // A tab keeps its address, unless the address already names something in it.
        if (NB.route.parse(location.hash).tab !== value)
          location.hash = NB.route.build(value);
      },
    },
    mounted() {
      this.loadServerWarnings();
      if (this.signedIn) this.start();
      window.addEventListener("hashchange", () => this.onHash());
    },
  });

  /** Our components and helpers on `app` (ours, or LNbits' own app). */
  function install(app) {
    NB.bus = NB.bus || new EventTarget();
    for (const [name, component] of Object.entries(NB.components)) {
      app.component(name, component);
    }
    app.config.globalProperties.fmt = NB.format;
    app.config.globalProperties.orderLook = NB.orders;
  }

  NB.dashboard = { rootOptions, install };
  if (NB.config.host === "lnbits") return; // LNbits mounts its own app (lnbits-dashboard.js)
  const app = Vue.createApp(rootOptions());
  install(app);
  app.use(Quasar, { config: { notify: { position: "bottom-right" } } });
  app.mount("#app");
})();
