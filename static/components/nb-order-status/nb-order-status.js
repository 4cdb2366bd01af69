/* One order as the merchant's messages tell it: invoice, then paid, shipped, or why not. */
(function () {
  const LOOK = {
    sent: ["grey-7", "Sent: waiting for the merchant's answer"],
    awaiting_payment: ["orange-8", "Waiting for payment"],
    paid: ["positive", "Paid"],
    shipped: ["primary", "Shipped"],
    expired: ["grey-7", "Expired"],
    cancelled: ["grey-7", "Cancelled"],
    rejected: ["negative", "Rejected"],
    completed: ["teal", "Completed"],
    refund_needed: ["deep-orange", "Refund due: the merchant will contact you"],
    refunded: ["grey-7", "Refunded"],
  };

  NB.components["nb-order-status"] = {
    template: "#nb-order-status",
    props: {
      order: { type: Object, required: true },
      catalogue: { type: Object, required: true },
    },
    emits: ["close"],
    computed: {
      look() {
        return LOOK[this.order.status] || ["grey-7", this.order.status];
      },
      items() {
        return (this.order.request.items || []).map((item) => {
          const product =
            this.catalogue[`${this.order.merchant}:${item.product_id}`];
          return {
            name: product ? product.name : item.product_id,
            quantity: item.quantity,
          };
        });
      },
      /** The merchant's messages, without the one already shown as the reason. */
      updates() {
        return this.order.updates.filter(
          (update) => update.text && update.text !== this.order.reason,
        );
      },
      walletLink() {
        return `lightning:${this.order.invoice}`;
      },
    },
  };
})();
