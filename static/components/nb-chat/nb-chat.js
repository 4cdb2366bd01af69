/* Chat with customers: conversations with unread counts, messages, replies. */
(function () {
  function unreadOf(customer) {
    return Number(
      NB.orders.first(customer.unread_messages, customer.unread, 0),
    );
  }

  /** A NIP-15 JSON message as one readable line; plain text as it is. */
  function describe(text) {
    let data = null;
    try {
      data = JSON.parse(text);
    } catch {
      return text;
    }
    if (!data || typeof data !== "object" || !("type" in data)) return text;
    const order = NB.format.shortId(String(data.id || ""));
    if (data.type === 0) {
      const count = (data.items || []).reduce(
        (sum, item) => sum + Number(item.quantity || 0),
        0,
      );
      return `🛒 Order ${order}: ${count} item(s)${data.message ? ` · “${data.message}”` : ""}`;
    }
    if (data.type === 1) {
      const paying = (data.payment_options || []).length
        ? "payment request"
        : "refused";
      return `🧾 Order ${order}: ${paying}${data.message ? ` · ${data.message}` : ""}`;
    }
    if (data.type === 2) {
      const state = data.shipped ? "shipped" : data.paid ? "paid" : "update";
      return `📦 Order ${order}: ${state}${data.message ? ` · ${data.message}` : ""}`;
    }
    return text;
  }

  NB.components["nb-chat"] = {
    template: "#nb-chat",
    props: { active: { type: Boolean, default: false } },
    emits: ["unread"],
    data() {
      return {
        customers: [],
        selected: null,
        messages: [],
        text: "",
        newCustomer: "",
        error: "",
        sendError: "",
        sending: false,
      };
    },
    computed: {
      totalUnread() {
        return this.customers.reduce(
          (sum, customer) => sum + unreadOf(customer),
          0,
        );
      },
    },
    watch: {
      totalUnread(value) {
        this.$emit("unread", value);
      },
      active(value) {
        if (value && this.selected) this.open(this.selected);
      },
    },
    methods: {
      unreadOf,
      describe,
      name(customer) {
        const profile = customer.profile || {};
        return (
          profile.name ||
          customer.name ||
          NB.format.shortId(NB.format.npub(customer.public_key), 10)
        );
      },
      async loadCustomers() {
        try {
          this.customers = (await NB.api.get("/customer")) || [];
          this.error = "";
        } catch (err) {
          this.error = err.message;
        }
      },
      async open(publicKey) {
        this.selected = publicKey;
        this.sendError = "";
        try {
          this.messages =
            (await NB.api.get(NB.api.path`/message/${publicKey}`)) || [];
          // Reading changes nothing on the server; opening the conversation marks it read.
          await NB.api.put(NB.api.path`/message/${publicKey}/read`);
          this.loadCustomers();
          this.$nextTick(() => {
            const log = this.$refs.log;
            if (log) log.scrollTop = log.scrollHeight;
          });
        } catch (err) {
          this.sendError = err.message;
        }
      },
      async send() {
        const message = this.text.trim();
        if (!message) return;
        this.sending = true;
        this.sendError = "";
        try {
          await NB.api.post("/message", { public_key: this.selected, message });
          this.text = "";
          await this.open(this.selected);
        } catch (err) {
          this.sendError = err.message;
        } finally {
          this.sending = false;
        }
      },
      async addCustomer() {
        const key = NB.format.publicKeyHex(this.newCustomer);
        if (!key) {
          this.error =
            "Enter the customer's npub or 64-character hex public key.";
          return;
        }
        try {
          await NB.api.post("/customer", { public_key: key });
        } catch (err) {
          if (err.status !== 409) {
            this.error = err.message;
            return;
          }
        }
        this.newCustomer = "";
        await this.loadCustomers();
        this.open(key);
      },
      messageTime(message) {
        return NB.format.date(
          NB.orders.first(
            message.event_created_at,
            message.time,
            message.created_at,
          ),
        );
      },
      onLive(event) {
        const { kind, data } = event.detail;
        if (kind !== "message") return;
        this.loadCustomers();
        if (this.active && data.public_key === this.selected)
          this.open(this.selected);
      },
    },
    mounted() {
      this.loadCustomers();
      this.listener = (event) => this.onLive(event);
      NB.bus.addEventListener("live", this.listener);
    },
    unmounted() {
      NB.bus.removeEventListener("live", this.listener);
    },
  };
})();
