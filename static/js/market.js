/* The customer market: catalogue and DMs from relays, carts, checkout, order status. */
(function () {
  const { SimplePool } = window.NostrTools;
  const CARTS = "nostrbazaar.carts";

  function merchantsFromUrl() {
    const params = new URLSearchParams(location.search);
    return params
      .getAll("merchant")
      .flatMap((value) => value.split(","))
      .map((value) => NB.format.publicKeyHex(value))
      .filter(Boolean);
  }

  function relaysFromUrl() {
    return new URLSearchParams(location.search)
      .getAll("relay")
      .filter((url) => /^wss?:\/\//.test(url));
  }

  function savedCarts() {
    return NB.market.parseJson(localStorage.getItem(CARTS) || "{}") || {};
  }

  const app = Vue.createApp({
    data() {
      const fromUrl = merchantsFromUrl();
      return {
        merchants: fromUrl.length ? fromUrl : NB.config.merchants || [],
        relays: [...new Set([...relaysFromUrl(), ...(NB.config.relays || [])])],
        signer: null,
        catalogue: {},
        deleted: {},
        profiles: {},
        dmRelays: {},
        messages: {},
        carts: savedCarts(),
        tab: "market",
        loading: true,
        relayError: "",
        checkoutStall: null,
        openOrderId: null,
      };
    },
    computed: {
      stalls() {
        return Object.values(this.catalogue).filter(
          (item) => item.type === "stall",
        );
      },
      products() {
        return Object.values(this.catalogue).filter(
          (item) => item.type === "product" && this.catalogue[item.stallKey],
        );
      },
      orders() {
        return Object.values(
          NB.market.buildOrders(Object.values(this.messages)),
        ).sort((a, b) => b.created_at - a.created_at);
      },
      openOrder() {
        return (
          this.orders.find((order) => order.id === this.openOrderId) || null
        );
      },
      cartCount() {
        return Object.values(this.carts).reduce(
          (sum, cart) => sum + Object.values(cart).reduce((a, b) => a + b, 0),
          0,
        );
      },
    },
    watch: {
      carts: {
        deep: true,
        handler(value) {
          localStorage.setItem(CARTS, JSON.stringify(value));
        },
      },
    },
    methods: {
      onCatalogueEvent(event) {
        if (event.kind === 0) {
          const known = this.profiles[event.pubkey];
          if (!known || known.created_at < event.created_at) {
            const profile = NB.market.parseJson(event.content) || {};
            this.profiles[event.pubkey] = {
              ...profile,
              created_at: event.created_at,
            };
          }
          return;
        }
        if (event.kind === 10050) {
          const known = this.dmRelays[event.pubkey];
          if (!known || known.created_at < event.created_at) {
            const urls = event.tags
              .filter((tag) => tag[0] === "relay")
              .map((tag) => tag[1]);
            this.dmRelays[event.pubkey] = {
              created_at: event.created_at,
              urls,
            };
          }
          return;
        }
        if (event.kind === 5) {
          for (const key of NB.market.deletedKeys(event)) {
            this.deleted[key] = Math.max(
              this.deleted[key] || 0,
              event.created_at,
            );
            delete this.catalogue[key];
          }
          return;
        }
        const item = NB.market.catalogueItem(event);
        if (!item || (this.deleted[item.key] || 0) >= item.created_at) return;
        const known = this.catalogue[item.key];
        if (!known || known.created_at <= item.created_at)
          this.catalogue[item.key] = item;
      },
      subscribeCatalogue() {
        if (!this.merchants.length) {
          this.loading = false;
          return;
        }
        const filter = {
          kinds: [0, 5, 10050, 30017, 30018],
          authors: this.merchants,
        };
        this.catalogueSub = this.pool.subscribe(this.relays, filter, {
          onevent: (event) => this.onCatalogueEvent(event),
          oneose: () => (this.loading = false),
          onclose: (reasons) => this.onCatalogueClosed(reasons),
        });
        setTimeout(() => (this.loading = false), 8000);
      },
      /** Every relay closed the subscription: say so if it left the market empty. */
      onCatalogueClosed(reasons) {
        this.loading = false;
        if (Object.keys(this.catalogue).length) return;
        // nostr-tools reports one {url, reason} per relay.
        const why = reasons
          .map((item) =>
            item && item.url ? `${item.url}: ${item.reason}` : String(item),
          )
          .join("; ");
        this.relayError = `Could not load the market from the relays. ${why}`;
      },
      async onDirectMessage(event) {
        try {
          const message = await NB.dm.read(this.signer, event);
          if (message) this.messages[message.id] = message;
        } catch {
          // Not for us, or not readable with this key: nothing to show.
        }
      },
      subscribeMessages() {
        if (this.dmSubs) this.dmSubs.forEach((sub) => sub.close());
        const me = this.signer.publicKey;
        const onevent = (event) => this.onDirectMessage(event);
        this.dmSubs = [
          { kinds: [4], "#p": [me] },
          { kinds: [4], authors: [me] },
          { kinds: [1059], "#p": [me] },
        ].map((filter) =>
          this.pool.subscribe(this.relays, filter, { onevent }),
        );
      },
      /** Publish to our relays plus `extra` ones; at least one relay must accept. */
      async publish(event, extra = []) {
        const relays = [...new Set([...this.relays, ...extra])];
        const results = await Promise.allSettled(
          this.pool.publish(relays, event),
        );
        if (!results.some((result) => result.status === "fulfilled")) {
          const reasons = results
            .map((result) => String(result.reason))
            .join("; ");
          throw new Error(
            `No relay accepted the message: ${reasons || "no relays configured"}`,
          );
        }
      },
      /** Send a NIP-15 type 0 order to the stall's merchant; resolves with the order id. */
      async placeOrder({ stall, order, transport }) {
        const text = JSON.stringify(order);
        const events =
          transport === "nip04"
            ? [await NB.dm.nip04Event(this.signer, stall.merchant, text)]
            : await NB.dm.nip17Events(this.signer, stall.merchant, text);
        // NIP-17: also deliver to the relays the merchant reads its DMs on (kind 10050).
        const inbox =
          transport === "nip17" ? this.dmRelays[stall.merchant] : null;
        for (const event of events)
          await this.publish(event, inbox ? inbox.urls : []);
        this.messages[`local:${order.id}`] = {
          id: `local:${order.id}`,
          from: this.signer.publicKey,
          peer: stall.merchant,
          incoming: false,
          text,
          created_at: NB.dm.now(),
          transport,
        };
        this.carts[stall.key] = {};
        this.checkoutStall = null;
        this.openOrderId = order.id;
        this.tab = "orders";
      },
      addToCart(product) {
        const cart = this.carts[product.stallKey] || {};
        const quantity = (cart[product.key] || 0) + 1;
        this.carts[product.stallKey] = { ...cart, [product.key]: quantity };
        this.$q.notify({
          message: `${product.name} added to the cart`,
          timeout: 1200,
        });
      },
      setSigner(signer) {
        this.signer = signer;
        this.messages = {};
        this.subscribeMessages();
      },
    },
    async mounted() {
      this.pool = new SimplePool({ enableReconnect: true });
      this.subscribeCatalogue();
      this.setSigner(await NB.signer.load());
    },
  });

  for (const [name, component] of Object.entries(NB.components)) {
    app.component(name, component);
  }
  app.config.globalProperties.fmt = NB.format;
  app.use(Quasar, { config: { notify: { position: "bottom-right" } } });
  app.mount("#app");
})();
