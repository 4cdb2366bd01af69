/* One cart per stall: quantities, a subtotal, and checkout for that stall. */
NB.components["nb-cart"] = {
  template: "#nb-cart",
  props: {
    carts: { type: Object, required: true },
    catalogue: { type: Object, required: true },
  },
  emits: ["checkout", "update"],
  computed: {
    groups() {
      return Object.entries(this.carts)
        .map(([stallKey, cart]) => ({
          stall: this.catalogue[stallKey],
          lines: this.lines(cart),
        }))
        .filter((group) => group.stall && group.lines.length);
    },
  },
  methods: {
    lines(cart) {
      return Object.entries(cart)
        .filter(([key, quantity]) => quantity > 0 && this.catalogue[key])
        .map(([key, quantity]) => ({ product: this.catalogue[key], quantity }));
    },
    setQuantity(stall, product, value) {
      const quantity = Math.max(0, Math.floor(Number(value) || 0));
      const cart = {
        ...(this.carts[stall.key] || {}),
        [product.key]: quantity,
      };
      if (!quantity) delete cart[product.key];
      this.$emit("update", { stallKey: stall.key, cart });
    },
    subtotal(group) {
      return group.lines.reduce(
        (sum, line) => sum + line.product.price * line.quantity,
        0,
      );
    },
    overStock(line) {
      return (
        line.product.quantity !== null && line.quantity > line.product.quantity
      );
    },
  },
};
