/* Checkout for one stall: zone, address when needed, contact, totals, and sending. */
NB.components["nb-checkout"] = {
  template: "#nb-checkout",
  props: {
    stall: { type: Object, required: true },
    cart: { type: Object, required: true },
    catalogue: { type: Object, required: true },
    signer: { type: Object, default: null },
    placeOrder: { type: Function, required: true },
  },
  emits: ["close"],
  data() {
    const zones = this.stall.shipping;
    return {
      open: true,
      zoneId: zones.length === 1 ? zones[0].id : null,
      name: "",
      address: "",
      email: "",
      phone: "",
      message: "",
      // NIP-17 needs NIP-44 encryption; an extension without it can still use NIP-04.
      transport: this.signer && !this.signer.canNip44 ? "nip04" : "nip17",
      sending: false,
      error: "",
    };
  },
  computed: {
    zoneOptions() {
      return this.stall.shipping.map((zone) => ({
        label: `${zone.name || zone.id} (${NB.format.money(zone.cost, this.stall.currency)})`,
        value: zone.id,
      }));
    },
    zone() {
      return (
        this.stall.shipping.find((zone) => zone.id === this.zoneId) || null
      );
    },
    needsAddress() {
      return Boolean(
        this.zone &&
        Array.isArray(this.zone.regions) &&
        this.zone.regions.length,
      );
    },
    lines() {
      return Object.entries(this.cart)
        .filter(([key, quantity]) => quantity > 0 && this.catalogue[key])
        .map(([key, quantity]) => ({ product: this.catalogue[key], quantity }));
    },
    totals() {
      return NB.market.totals(this.stall, this.lines, this.zoneId);
    },
    inSats() {
      return this.stall.currency.toLowerCase() === "sat";
    },
  },
  watch: {
    open(value) {
      if (!value) this.$emit("close");
    },
  },
  methods: {
    problem() {
      if (!this.lines.length) return "The cart is empty.";
      if (!this.zone) return "Choose a shipping zone.";
      if (this.needsAddress && !this.address.trim())
        return "Enter the address to ship to.";
      return "";
    },
    order() {
      const contact = { nostr: this.signer.publicKey };
      if (this.email.trim()) contact.email = this.email.trim();
      if (this.phone.trim()) contact.phone = this.phone.trim();
      const order = {
        id: NB.market.randomId(),
        type: 0,
        items: this.lines.map((line) => ({
          product_id: line.product.id,
          quantity: line.quantity,
        })),
        shipping_id: this.zoneId,
        contact,
      };
      if (this.name.trim()) order.name = this.name.trim();
      if (this.address.trim()) order.address = this.address.trim();
      if (this.message.trim()) order.message = this.message.trim();
      return order;
    },
    async submit() {
      this.error = this.problem();
      if (this.error) return;
      this.sending = true;
      try {
        await this.placeOrder({
          stall: this.stall,
          order: this.order(),
          transport: this.transport,
        });
      } catch (err) {
        this.error = err.message || String(err);
      } finally {
        this.sending = false;
      }
    },
  },
};
