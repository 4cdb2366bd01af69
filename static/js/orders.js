/* Reading an order whatever the API's exact field names: amounts, dates, statuses. */
(function () {
  const STATUS_COLORS = {
    awaiting_payment: "orange-8",
    paid: "positive",
    shipped: "primary",
    completed: "teal",
    rejected: "negative",
    expired: "grey-7",
    cancelled: "grey-7",
    refund_needed: "deep-orange",
    refunded: "grey-7",
  };

  function first(...values) {
    return values.find((value) => value !== undefined && value !== null);
  }

  function satsOf(order, field) {
    const msat = order[`${field}_msat`];
    if (msat !== undefined && msat !== null)
      return Math.floor(Number(msat) / 1000);
    const sat = first(order[`${field}_sat`], order[field]);
    return sat === undefined ? null : Number(sat);
  }

  function createdAt(order) {
    return first(order.created_at, order.time, order.event_created_at);
  }

  function rows(response) {
    if (Array.isArray(response))
      return { rows: response, total: first(response.total, null) };
    const list = first(response.data, response.items, response.orders, []);
    return { rows: list, total: first(response.total, response.count, null) };
  }

  window.NB = Object.assign(window.NB || {}, {
    orders: {
      statuses: Object.keys(STATUS_COLORS),
      color: (status) => STATUS_COLORS[status] || "grey-7",
      label: (status) => (status || "").replace(/_/g, " "),
      satsOf,
      createdAt,
      rows,
      first,
    },
  });
})();
