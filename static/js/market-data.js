/* The market's model: catalogue events in, orders rebuilt from the customer's DMs. */
(function () {
  const MULTIPLIERS = { "": 1e8, m: 1e5, u: 100, n: 0.1, p: 0.0001 };

  function parseJson(text) {
    try {
      const value = JSON.parse(text);
      return value && typeof value === "object" ? value : null;
    } catch {
      return null;
    }
  }

  function tagValues(event, name) {
    return event.tags.filter((tag) => tag[0] === name).map((tag) => tag[1]);
  }

  /** A 30017 or 30018 event as a stall or product, or null when its content is unusable. */
  function catalogueItem(event) {
    const content = parseJson(event.content);
    const d = tagValues(event, "d")[0];
    if (!content || !d) return null;
    const base = {
      key: `${event.pubkey}:${d}`,
      id: d,
      merchant: event.pubkey,
      created_at: event.created_at,
      name: String(content.name || "(no name)"),
      description: content.description || "",
      currency: content.currency || "sat",
    };
    if (event.kind === 30017) {
      return {
        ...base,
        type: "stall",
        shipping: Array.isArray(content.shipping) ? content.shipping : [],
      };
    }
    return {
      ...base,
      type: "product",
      stallKey: `${event.pubkey}:${content.stall_id}`,
      images: Array.isArray(content.images) ? content.images : [],
      price: Number(content.price) || 0,
      quantity:
        content.quantity === null || content.quantity === undefined
          ? null
          : Number(content.quantity),
      specs: Array.isArray(content.specs) ? content.specs : [],
      shipping: Array.isArray(content.shipping) ? content.shipping : [],
      categories: tagValues(event, "t"),
    };
  }

  /** Keys of the stalls and products a NIP-09 deletion (kind 5) removes. */
  function deletedKeys(event) {
    return tagValues(event, "a")
      .map((address) => address.split(":"))
      .filter(
        ([kind, pubkey]) =>
          ["30017", "30018"].includes(kind) && pubkey === event.pubkey,
      )
      .map(([, pubkey, d]) => `${pubkey}:${d}`);
  }

  function bolt11Sats(invoice) {
    const lower = (invoice || "").toLowerCase();
    const hrp = lower.slice(0, lower.lastIndexOf("1"));
    const match = /^ln[a-z]+?(\d+)([munp]?)$/.exec(hrp);
    return match ? Math.floor(Number(match[1]) * MULTIPLIERS[match[2]]) : null;
  }

  function randomId() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join(
      "",
    );
  }

  const KNOWN = [
    "paid",
    "shipped",
    "completed",
    "expired",
    "cancelled",
    "refund_needed",
    "refunded",
  ];

  /** The status a type 2 announces: its `status` field when the merchant sends one
   *  (nostrbazaar does), else what `paid`/`shipped` and the message text say. */
  function statusUpdate(order, data) {
    if (KNOWN.includes(data.status)) return data.status;
    if (data.shipped) return "shipped";
    if (data.paid) return "paid";
    const text = String(data.message || "").toLowerCase();
    if (text.includes("expire")) return "expired";
    if (text.includes("cancel")) return "cancelled";
    return order.status;
  }

  function applyMerchantMessage(order, data, message) {
    order.updates.push({ at: message.created_at, text: data.message || "" });
    if (data.type === 1) {
      const options = Array.isArray(data.payment_options)
        ? data.payment_options
        : [];
      const ln = options.find((option) => option.type === "ln" && option.link);
      if (ln) {
        order.invoice = ln.link;
        order.sats = bolt11Sats(ln.link);
        order.status = "awaiting_payment";
      } else {
        order.status = "rejected";
        order.reason = data.message || "The merchant refused this order.";
      }
    } else if (data.type === 2) {
      order.status = statusUpdate(order, data);
    }
  }

  function newOrder(data, message) {
    return {
      id: data.id,
      merchant: message.peer,
      request: data,
      created_at: message.created_at,
      transport: message.transport,
      status: "sent",
      invoice: null,
      sats: null,
      reason: "",
      updates: [],
    };
  }

  /** Fold the customer's DMs (both directions) into orders keyed by order id. */
  function buildOrders(messages) {
    const parsed = messages
      .map((message) => ({ message, data: parseJson(message.text) }))
      .filter(
        ({ data }) =>
          data && typeof data.id === "string" && [0, 1, 2].includes(data.type),
      )
      .sort(
        (a, b) =>
          a.message.created_at - b.message.created_at ||
          a.data.type - b.data.type,
      );
    const orders = {};
    for (const { message, data } of parsed) {
      if (data.type === 0 && !message.incoming && !orders[data.id]) {
        orders[data.id] = newOrder(data, message);
      } else if (data.type !== 0 && message.incoming) {
        const order = orders[data.id];
        if (order && order.merchant === message.from)
          applyMerchantMessage(order, data, message);
      }
    }
    return orders;
  }

  /** Products, shipping and total of a cart for one zone, in the stall's currency. */
  function totals(stall, lines, zoneId) {
    const zone = stall.shipping.find((item) => item.id === zoneId);
    let products = 0;
    let shipping = zone ? Number(zone.cost) || 0 : 0;
    for (const { product, quantity } of lines) {
      products += product.price * quantity;
      const extra = product.shipping.find((item) => item.id === zoneId);
      if (extra) shipping += (Number(extra.cost) || 0) * quantity;
    }
    return {
      products,
      shipping,
      total: products + shipping,
      currency: stall.currency,
    };
  }

  window.NB = Object.assign(window.NB || {}, {
    market: {
      catalogueItem,
      deletedKeys,
      bolt11Sats,
      buildOrders,
      totals,
      randomId,
      parseJson,
    },
  });
})();
