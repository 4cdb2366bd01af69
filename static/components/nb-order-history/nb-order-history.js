/* The customer's orders, rebuilt from their own direct messages on the relays. */
NB.components["nb-order-history"] = {
  template: "#nb-order-history",
  props: {
    orders: { type: Array, required: true },
    catalogue: { type: Object, required: true },
  },
  emits: ["open"],
  methods: {
    label(status) {
      return status.replace(/_/g, " ");
    },
  },
};
