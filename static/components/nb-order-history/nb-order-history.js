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
      return status === "sent"
        ? "waiting for the merchant"
        : status.replace(/_/g, " ");
    },
    color(status) {
      const colors = {
        paid: "positive",
        shipped: "primary",
        rejected: "negative",
      };
      return (
        colors[status] ||
        (status === "awaiting_payment" ? "orange-8" : "grey-7")
      );
    },
    summary(order) {
      return (order.request.items || [])
        .map((item) => {
          const product =
            this.catalogue[`${order.merchant}:${item.product_id}`];
          return `${item.quantity} × ${product ? product.name : "item"}`;
        })
        .join(", ");
    },
  },
};
