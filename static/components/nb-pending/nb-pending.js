/* Stalls and products found on relays but not created here: accept or discard each. */
NB.components["nb-pending"] = {
  template: "#nb-pending",
  emits: ["changed"],
  data() {
    return { stalls: [], products: [], error: "" };
  },
  computed: {
    count() {
      return this.stalls.length + this.products.length;
    },
  },
  methods: {
    async load() {
      try {
        const [accepted, pending] = await Promise.all([
          NB.api.get("/stall"),
          NB.api.get("/stall?pending=true"),
        ]);
        this.stalls = pending || [];
        const lists = await Promise.all(
          [...(accepted || []), ...this.stalls].map((stall) =>
            NB.api.get(NB.api.path`/stall/product/${stall.id}?pending=true`),
          ),
        );
        this.products = lists.flat().filter(Boolean);
        this.error = "";
      } catch (err) {
        this.error = err.message;
      }
    },
    async run(action) {
      this.error = "";
      try {
        await action();
        await this.load();
        this.$emit("changed");
      } catch (err) {
        this.error = err.message;
      }
    },
    acceptStall(stall) {
      const body = {
        name: stall.name,
        currency: stall.currency,
        shipping_zones: stall.shipping_zones.map((zone) => zone.id),
        config: stall.config,
        pending: false,
      };
      return this.run(() => NB.api.put(NB.api.path`/stall/${stall.id}`, body));
    },
    acceptProduct(product) {
      return this.run(() =>
        NB.api.patch(NB.api.path`/product/${product.id}`, { pending: false }),
      );
    },
    discard(path) {
      return this.run(() => NB.api.del(path));
    },
  },
  mounted() {
    this.load();
    this.listener = (event) => {
      if (event.detail.kind === "catalogue") this.load();
    };
    NB.bus.addEventListener("live", this.listener);
  },
  unmounted() {
    NB.bus.removeEventListener("live", this.listener);
  },
};
