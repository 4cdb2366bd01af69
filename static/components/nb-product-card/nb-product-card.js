/* One product: picture, name, price, stock and an add-to-cart button. */
NB.components["nb-product-card"] = {
  template: "#nb-product-card",
  props: {
    product: { type: Object, required: true },
    stall: { type: Object, default: null },
    merchantName: { type: String, default: "" },
  },
  emits: ["add"],
  computed: {
    soldOut() {
      return this.product.quantity !== null && this.product.quantity <= 0;
    },
  },
};
