/* An order's event log in a merchant's words ("Invoice sent: 4,700 sats, expires 15:52"),
   and what the log says of its items' unit prices and its invoice's expiry. Pure (no DOM,
   no API): node runs its tests (tests/unit/test_timeline_words.py). */
(function (root) {
  /** 4700000 msat -> "4,700 sats" (fractions of a sat kept, up to 3 digits). */
  function sats(msat) {
    if (msat === null || msat === undefined || msat === "") return "–";
    const value = Number(msat) / 1000;
    return `${value.toLocaleString("en-US", { maximumFractionDigits: 3 })} sats`;
  }

  /** An exact decimal price in its currency: "1,000 sats", "12.50 USD". */
  function price(amount, currency) {
    if (amount === null || amount === undefined || amount === "") return "–";
    const code = String(currency || "sat");
    if (code.toLowerCase() === "sat") {
      const value = Number(amount);
      return `${value.toLocaleString("en-US", { maximumFractionDigits: 3 })} sats`;
    }
    const [whole, fraction = ""] = String(amount).split(".");
    const grouped = Number(whole).toLocaleString("en-US");
    const cents = fraction.padEnd(2, "0");
    return `${grouped}.${cents} ${code.toUpperCase()}`;
  }

  function pad(number) {
    return String(number).padStart(2, "0");
  }

  const MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(" ");

  /** A moment as "15:52" when it is on the day of `now`, else "8 Dec 15:52" (local time). */
  function clock(seconds, now) {
    if (!seconds) return "–";
    const at = new Date(Number(seconds) * 1000);
    const today = new Date(Number(now || Date.now() / 1000) * 1000);
    const time = `${pad(at.getHours())}:${pad(at.getMinutes())}`;
    if (at.toDateString() === today.toDateString()) return time;
    const day = `${at.getDate()} ${MONTHS[at.getMonth()]}`;
    return at.getFullYear() === today.getFullYear()
      ? `${day} ${time}`
      : `${day} ${at.getFullYear()} ${time}`;
  }

  /** [{product_id, quantity}] -> "2 × Coffee beans, 1 × Tea" with the names known. */
  function itemsText(items, names) {
    return (items || [])
      .map((item) => {
        const name = (names || {})[item.product_id] || item.product_id;
        return `${item.quantity} × ${name}`;
      })
      .join(", ");
  }

  /** "OrderRefundMarked" -> "Order refund marked": a readable title for a new event. */
  function spaced(type) {
    const words = String(type || "event")
      .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
      .toLowerCase();
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  const PAYMENT_SOURCES = {
    wallet: "",
    merchant: "seen in your own message on the relays",
    lightning_address: "through your lightning address",
  };

  function joined(...parts) {
    return parts
      .filter((part) => part !== null && part !== undefined && part !== "")
      .join(" · ");
  }

  /** Each event type -> (data, context) => [title, detail, tone]. */
  const WORDS = {
    OrderPlaced: (data, context) => [
      "Order placed",
      itemsText(data.details && data.details.items, context.names),
    ],
    OrderRejected: (data) => ["Order refused", data.reason || "", "negative"],
    InvoiceIssued: (data, context) => {
      const invoice = data.invoice || {};
      const title = `Invoice sent: ${sats(invoice.amount_msat)}, expires ${clock(
        invoice.expires_at,
        context.now,
      )}`;
      return [
        title,
        data.adopted ? "your earlier invoice, found on the relays" : "",
      ];
    },
    InvoiceSuperseded: () => [
      "Earlier invoice replaced",
      "a payment for it now needs a refund",
    ],
    InvoiceExpired: () => ["Invoice expired unpaid", "", "warning"],
    StockReserved: (data, context) => [
      "Stock held",
      itemsText(data.items, context.names),
    ],
    StockReleased: (data, context) => [
      "Stock released",
      itemsText(data.items, context.names),
    ],
    StockSold: (data, context) => [
      "Stock sold",
      itemsText(data.items, context.names),
    ],
    PaymentReceived: (data) => [
      `Payment received: ${sats(data.amount_msat)}`,
      PAYMENT_SOURCES[data.source] === undefined
        ? data.source
        : PAYMENT_SOURCES[data.source],
      "positive",
    ],
    OrderPaid: (data) => [
      "Paid",
      data.by === "merchant" ? "from your own message on the relays" : "",
      "positive",
    ],
    OrderShipped: (data) => [
      data.message ? `Shipped: ${data.message}` : "Shipped",
      joined(
        data.tracking ? `tracking ${data.tracking}` : "",
        data.carrier ? `with ${data.carrier}` : "",
      ),
      "positive",
    ],
    OrderCompleted: () => ["Completed", "", "positive"],
    OrderCancelled: (data) => [
      data.reason ? `Cancelled: ${data.reason}` : "Cancelled",
      "",
      "warning",
    ],
    RefundNeeded: (data) => [
      `Refund needed: ${sats(data.amount_msat)}`,
      data.reason || "",
      "negative",
    ],
    RefundRecorded: (data) => [
      `Refunded: ${sats(data.amount_msat)}`,
      data.note || "",
      "",
    ],
  };

  /** Plain values of an event we have no words for yet: "note: sent by post". */
  function plainData(data) {
    return Object.entries(data || {})
      .filter(
        ([, value]) =>
          value !== null && value !== "" && typeof value !== "object",
      )
      .filter(([key]) => !/hash|bolt11|_id$/.test(key))
      .map(([key, value]) => `${key.replace(/_/g, " ")}: ${value}`)
      .join(" · ");
  }

  /**
   * One logged event ({type, data, created_at}) as {title, detail, tone}; `context` holds
   * `names` (product id -> name) and `now` (Unix seconds, for "today").
   */
  function describe(event, context) {
    const data = (event && event.data) || {};
    const words = WORDS[event && event.type];
    const [title, detail, tone] = words
      ? words(data, context || {})
      : [spaced(event && event.type), plainData(data)];
    return { title, detail: detail || "", tone: tone || "" };
  }

  /** An exact decimal times a whole quantity, as a decimal string: ("12.50", 3) -> "37.50". */
  function times(amount, quantity) {
    const [whole, fraction = ""] = String(amount).split(".");
    const scaled = (BigInt(whole + fraction) * BigInt(quantity)).toString();
    if (!fraction) return scaled;
    const digits = scaled.padStart(fraction.length + 1, "0");
    return `${digits.slice(0, -fraction.length)}.${digits.slice(-fraction.length)}`;
  }

  /** The newest invoice's `quote` and `invoice` in the log (null before one was issued). */
  function latestInvoice(events) {
    const issued = (events || []).filter(
      (event) => event.type === "InvoiceIssued",
    );
    return issued.length ? issued[issued.length - 1].data || null : null;
  }

  /** product id -> {price, currency}: the unit prices the order was charged at. */
  function unitPrices(events) {
    const latest = latestInvoice(events);
    const lines = (latest && latest.quote && latest.quote.lines) || [];
    return Object.fromEntries(
      lines.map((line) => [
        line.product_id,
        { price: line.price, currency: line.currency },
      ]),
    );
  }

  /** When the current invoice expires (Unix seconds), or null. */
  function expiresAt(events) {
    const latest = latestInvoice(events);
    return (latest && latest.invoice && latest.invoice.expires_at) || null;
  }

  root.NB = Object.assign(root.NB || {}, {
    timeline: {
      describe,
      unitPrices,
      expiresAt,
      sats,
      price,
      times,
      clock,
      itemsText,
    },
  });
})(typeof window === "undefined" ? globalThis : window);
