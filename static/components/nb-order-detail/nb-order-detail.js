/* One order: items with the unit prices charged, amounts, shipping, contact, the invoice and
   its expiry, its event log in a merchant's words (NB.timeline), and actions. */
NB.components["nb-order-detail"] = {
  template: "#nb-order-detail",
  props: { orderId: { type: String, required: true } },
  emits: ["close", "changed"],
  data() {
    return {
      open: true,
      order: null,
      events: [],
      error: "",
      shipMessage: "",
      shipTracking: "",
      shipCarrier: "",
      refundNote: "",
      productNames: {},
      productPrices: {},
      restored: null,
      restoreJob: null,
      zoneName: "",
      busy: "",
      actionError: "",
    };
  },
  computed: {
    dialectLabel() {
      const labels = {
        gamma: "Gamma",
        shopstr: "Shopstr",
        conduit: "Conduit",
        nip15: "NIP-15",
      };
      return labels[this.order.dialect] || "NIP-15";
    },
    amounts() {
      const order = this.order;
      return {
        subtotal: NB.orders.satsOf(order, "subtotal"),
        shipping: NB.orders.satsOf(order, "shipping"),
        total: NB.orders.satsOf(order, "total"),
      };
    },
    contact() {
      const contact = this.order.contact || {};
      return typeof contact === "string" ? { text: contact } : contact;
    },
    invoice() {
      const order = this.order;
      return NB.orders.first(
        order.bolt11,
        order.invoice && order.invoice.bolt11,
        order.payment_request,
      );
    },
    /** product id -> {price, currency} as charged (kept with the invoice's quote). */
    charged() {
      return NB.timeline.unitPrices(this.events);
    },
    expiresAt() {
      return NB.timeline.expiresAt(this.events);
    },
    invoiceExpired() {
      return Boolean(this.expiresAt) && this.expiresAt * 1000 < Date.now();
    },
    timeline() {
      const context = {
        names: this.productNames,
        now: Math.floor(Date.now() / 1000),
      };
      return this.events.map((event) => ({
        ...NB.timeline.describe(event, context),
        time: this.eventTime(event),
      }));
    },
    /** The customer's conversation, on the Chat tab. */
    chatLink() {
      return NB.route.build("chat", this.order.public_key);
    },
    canShip() {
      return this.order.status === "paid";
    },
    canCancel() {
      return this.order.status === "awaiting_payment";
    },
    canReissue() {
      return ["awaiting_payment", "expired"].includes(this.order.status);
    },
    /** Money arrived that the order could not take: the merchant refunds it, then says so. */
    canRefund() {
      return Number(this.order.refund_msat || 0) > 0;
    },
  },
  methods: {
    async load() {
      this.error = "";
      try {
        const [order, events] = await Promise.all([
          NB.api.get(NB.api.path`/order/${this.orderId}`),
          NB.api.get(NB.api.path`/order/${this.orderId}/events`),
        ]);
        this.order = order;
        this.events = Array.isArray(events)
          ? events
          : NB.orders.rows(events).rows;
        this.loadNames();
      } catch (err) {
        this.error = err.message;
      }
    },
    /** Product and zone names for the ids the order holds (they may since be deleted). */
    async loadNames() {
      const ids = (this.order.items || []).map((item) => item.product_id);
      const missing = ids.filter((id) => !this.productNames[id]);
      const found = await Promise.allSettled(
        missing.map((id) => NB.api.get(NB.api.path`/product/${id}`)),
      );
      const names = { ...this.productNames };
      const prices = { ...this.productPrices };
      found.forEach((result, index) => {
        if (result.status !== "fulfilled") return;
        const product = result.value;
        names[missing[index]] = product.name;
        prices[missing[index]] = {
          price: String(product.price),
          currency: (product.config && product.config.currency) || "sat",
        };
      });
      this.productNames = names;
      this.productPrices = prices;
      try {
        const zones = (await NB.api.get("/zone")) || [];
        const zone = zones.find((item) => item.id === this.order.shipping_id);
        this.zoneName = zone ? zone.name || zone.id : "";
      } catch {
        this.zoneName = "";
      }
    },
    itemName(item) {
      return this.productNames[item.product_id] || item.name || item.product_id;
    },
    /** {unit, total, now}: the price charged, else today's catalogue price (now: true). */
    itemPrice(item) {
      const charged = this.charged[item.product_id];
      const known = charged || this.productPrices[item.product_id];
      if (!known) return { unit: "–", total: "–", now: false };
      const total = NB.timeline.times(known.price, item.quantity);
      return {
        unit: NB.timeline.price(known.price, known.currency),
        total: NB.timeline.price(total, known.currency),
        now: !charged,
      };
    },
    /** Copy this order's address, to share or reopen it. */
    async copyLink() {
      const url = `${location.origin}${location.pathname}${NB.route.build("orders", this.orderId)}`;
      const copied = await NB.format.copy(url);
      this.$q.notify({
        message: copied ? "Link to this order copied" : url,
        type: copied ? "positive" : "info",
      });
    },
    expiryText() {
      return NB.timeline.clock(this.expiresAt, Math.floor(Date.now() / 1000));
    },
    async act(name, action) {
      this.actionError = "";
      this.busy = name;
      try {
        await action();
        await this.load();
        this.$emit("changed");
      } catch (err) {
        this.actionError = err.message;
      } finally {
        this.busy = "";
      }
    },
    ship() {
      const message = this.shipMessage.trim();
      return this.act("ship", () =>
        NB.api.patch(NB.api.path`/order/${this.orderId}`, {
          shipped: true,
          message,
          tracking: this.shipTracking.trim() || null,
          carrier: this.shipCarrier.trim() || null,
        }),
      );
    },
    cancel() {
      return this.act("cancel", () =>
        NB.api.put(NB.api.path`/order/${this.orderId}/cancel`),
      );
    },
    markRefunded() {
      const note = this.refundNote.trim();
      return this.act("refund", () =>
        NB.api.put(NB.api.path`/order/${this.orderId}/refunded`, { note }),
      );
    },
    reissue() {
      const body = { id: this.orderId };
      if (this.order.zone_id || this.order.shipping_id) {
        body.shipping_id = this.order.zone_id || this.order.shipping_id;
      }
      return this.act("reissue", () => NB.api.put("/order/reissue", body));
    },
    /** Restore this order as a job; its summary shows when the job is done. */
    restore() {
      return this.act("restore", async () => {
        this.restored = null;
        const job = await NB.api.put(
          NB.api.path`/order/restore/${this.order.event_id}`,
        );
        this.restoreJob = job.id;
      });
    },
    onJob(job) {
      if (!job || job.id !== this.restoreJob) return;
      if (job.state === "done") {
        this.restored = job.result || {};
        this.restoreJob = null;
        this.load();
      } else if (["failed", "cancelled", "interrupted"].includes(job.state)) {
        this.actionError = `The restore ${job.state}${job.error ? `: ${job.error}` : "."}`;
        this.restoreJob = null;
      }
    },
    eventTime(event) {
      return NB.timeline.clock(
        NB.orders.first(event.created_at, event.time, event.at),
        Math.floor(Date.now() / 1000),
      );
    },
    onLive(event) {
      const { kind, data } = event.detail;
      if (kind === "job") return this.onJob(data);
      if ((data.order_id || data.id) === this.orderId) this.load();
    },
  },
  watch: {
    open(value) {
      if (!value) this.$emit("close");
    },
  },
  mounted() {
    this.load();
    this.listener = (event) => this.onLive(event);
    NB.bus.addEventListener("live", this.listener);
  },
  unmounted() {
    NB.bus.removeEventListener("live", this.listener);
  },
};
