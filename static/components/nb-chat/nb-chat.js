/* Chat with customers: conversations by name (profile, else the name in their orders) with
   unread counts, messages (orders shown as a line with a material icon), replies. */
(function () {
  function unreadOf(customer) {
    return Number(
      NB.orders.first(customer.unread_messages, customer.unread, 0),
    );
  }

  /** A NIP-15 JSON message as {icon, text}: one readable line; plain text as it is. */
  function describe(text) {
    let data = null;
    try {
      data = JSON.parse(text);
    } catch {
      return { icon: "", text };
    }
    if (!data || typeof data !== "object" || !("type" in data))
      return { icon: "", text };
    const order = NB.format.shortId(String(data.id || ""));
    if (data.type === 0) {
      const count = (data.items || []).reduce(
        (sum, item) => sum + Number(item.quantity || 0),
        0,
      );
      return {
        icon: "shopping_cart",
        text: `Order ${order}: ${count} item(s)${data.message ? ` · “${data.message}”` : ""}`,
      };
    }
    if (data.type === 1) {
      const paying = (data.payment_options || []).length
        ? "payment request"
        : "refused";
      return {
        icon: "receipt_long",
        text: `Order ${order}: ${paying}${data.message ? ` · ${data.message}` : ""}`,
      };
    }
    if (data.type === 2) {
      const state = data.shipped ? "shipped" : data.paid ? "paid" : "update";
      return {
        icon: "local_shipping",
        text: `Order ${order}: ${state}${data.message ? ` · ${data.message}` : ""}`,
      };
    }
    return { icon: "", text };
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
      /** What to call a customer: a name when one is known, else their short npub. */
      name(customer) {
        const profile = customer.profile || {};
        return (
          customer.name ||
          profile.name ||
          NB.format.shortId(NB.format.npub(customer.public_key), 10)
        );
      },
      /** Whether a name is known (then the npub is shown beside it, once). */
      named(customer) {
        return Boolean(customer.name || (customer.profile || {}).name);
      },
      selectedCustomer() {
        return (
          this.customers.find(
            (customer) => customer.public_key === this.selected,
          ) || { public_key: this.selected }
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
        // The conversation has its own address (#/chat/<public key>), e.g. from an order.
        if (NB.route.parse(location.hash).tab === "chat") {
          const address = NB.route.build("chat", publicKey);
          if (location.hash !== address) location.hash = address;
        }
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
      /** An address naming a conversation (npub or hex): open it. */
      onRoute(route) {
        if (route.tab !== "chat" || !route.id) return;
        const key = NB.format.publicKeyHex(route.id);
        if (key && key !== this.selected) this.open(key);
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
      this.onRoute(NB.route.parse(location.hash));
      this.listener = (event) => this.onLive(event);
      this.router = (event) => this.onRoute(event.detail);
      NB.bus.addEventListener("live", this.listener);
      NB.bus.addEventListener("route", this.router);
    },
    unmounted() {
      NB.bus.removeEventListener("live", this.listener);
      NB.bus.removeEventListener("route", this.router);
    },
  };
})();
