/* Bulk actions on the orders selected in the table: ship the paid ones (one message to
   each customer) or cancel the unpaid ones, one API call per order, with a summary of what
   was done and, per order, why not. */
(function () {
  NB.components["nb-order-bulk"] = {
    template: "#nb-order-bulk",
    props: { orders: { type: Array, default: () => [] } },
    emits: ["done", "clear"],
    data() {
      return {
        askShip: false,
        askCancel: false,
        message: "",
        busy: false,
        result: null,
      };
    },
    computed: {
      shippable() {
        return this.orders.filter((order) => order.status === "paid");
      },
      cancellable() {
        return this.orders.filter(
          (order) => order.status === "awaiting_payment",
        );
      },
    },
    methods: {
      /** `call(id)` for each order in turn; the count done and each failure's reason. */
      async each(orders, verb, call) {
        this.busy = true;
        const failed = [];
        let done = 0;
        for (const order of orders) {
          try {
            await call(order.id);
            done += 1;
          } catch (err) {
            failed.push(`${NB.format.shortId(order.id)}: ${err.message}`);
          }
        }
        const skipped = this.orders.length - orders.length;
        this.result = {
          text: `${done} ${verb}${skipped ? `, ${skipped} left as they were (not ${verb === "shipped" ? "paid" : "awaiting payment"})` : ""}.`,
          failed,
        };
        this.busy = false;
        this.$emit("done");
      },
      ship() {
        this.askShip = false;
        const message = this.message.trim();
        return this.each(this.shippable, "shipped", (id) =>
          NB.api.patch(NB.api.path`/order/${id}`, { shipped: true, message }),
        );
      },
      cancel() {
        this.askCancel = false;
        return this.each(this.cancellable, "cancelled", (id) =>
          NB.api.put(NB.api.path`/order/${id}/cancel`),
        );
      },
    },
  };
})();
