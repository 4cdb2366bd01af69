/* Products of one stall: price, stock, images, categories, per-zone shipping, autoreply,
   the limit per order, and who holds the product with unpaid orders. */
(function () {
  function blank(stall) {
    return {
      id: null,
      name: "",
      description: "",
      price: "",
      quantity: "1",
      imagesText: "",
      categories: [],
      active: true,
      use_autoreply: false,
      autoreply_message: "",
      max_per_order: "",
      free: false,
      shipping: Object.fromEntries(
        stall.shipping_zones.map((zone) => [zone.id, "0"]),
      ),
    };
  }

  function formOf(product, stall) {
    const shipping = blank(stall).shipping;
    for (const item of product.config.shipping)
      shipping[item.id] = NB.format.decimal(item.cost);
    return {
      id: product.id,
      name: product.name,
      description: product.config.description || "",
      price: NB.format.decimal(product.price),
      quantity: String(product.quantity),
      imagesText: product.images.join("\n"),
      categories: [...product.categories],
      active: product.active,
      use_autoreply: product.config.use_autoreply,
      autoreply_message: product.config.autoreply_message || "",
      max_per_order:
        product.config.max_per_order == null
          ? ""
          : String(product.config.max_per_order),
      free: Boolean(product.config.free),
      shipping,
    };
  }

  NB.components["nb-products"] = {
    template: "#nb-products",
    props: { stall: { type: Object, required: true } },
    data() {
      return {
        products: [],
        open: false,
        form: null,
        busy: false,
        error: "",
        listError: "",
        reservations: [],
        reservationsError: "",
      };
    },
    watch: {
      stall() {
        this.load();
      },
    },
    methods: {
      async load() {
        this.listError = "";
        try {
          const products = await NB.api.get(
            NB.api.path`/stall/product/${this.stall.id}`,
          );
          this.products = (products || []).filter(
            (product) => !product.pending,
          );
          this.recheckPending(this.products);
        } catch (err) {
          this.listError = err.message;
        }
      },
      /** While a publication waits, look again now and then: the relays' answers change. */
      recheckPending(items) {
        clearTimeout(this.recheck);
        const waiting = items.some(
          (item) => item.publication && item.publication.status === "pending",
        );
        if (waiting) this.recheck = setTimeout(() => this.load(), 5000);
      },
      edit(product) {
        this.form = product ? formOf(product, this.stall) : blank(this.stall);
        this.error = "";
        this.reservations = [];
        this.reservationsError = "";
        this.open = true;
        if (product) this.loadReservations(product.id);
      },
      async loadReservations(productId) {
        try {
          const rows = await NB.api.get(
            NB.api.path`/product/${productId}/reservations`,
          );
          if (this.form && this.form.id === productId) this.reservations = rows;
        } catch (err) {
          this.reservationsError = err.message;
        }
      },
      reservedUnits() {
        return this.reservations.reduce((sum, row) => sum + row.quantity, 0);
      },
      maxPerOrder() {
        const text = String(this.form.max_per_order).trim();
        if (text === "") return null;
        const number = Number(text);
        return Number.isInteger(number) ? number : text;
      },
      body() {
        const form = this.form;
        const quantity = Number(form.quantity);
        return {
          stall_id: this.stall.id,
          name: form.name.trim(),
          price: form.free ? "0" : String(form.price).trim(),
          quantity: Number.isInteger(quantity) ? quantity : form.quantity,
          images: form.imagesText
            .split("\n")
            .map((line) => line.trim())
            .filter(Boolean),
          categories: form.categories,
          active: form.active,
          config: {
            description: form.description.trim() || null,
            use_autoreply: form.use_autoreply,
            autoreply_message: form.autoreply_message.trim() || null,
            max_per_order: this.maxPerOrder(),
            free: form.free,
            shipping: Object.entries(form.shipping)
              .filter(
                ([, cost]) => String(cost).trim() !== "" && Number(cost) !== 0,
              )
              .map(([id, cost]) => ({ id, cost: String(cost).trim() })),
          },
        };
      },
      async save() {
        const price = String(this.form.price).trim();
        if (!this.form.free && price !== "" && Number(price) === 0) {
          this.error =
            "A price of 0 gives the product away: switch on “Free” to do that.";
          return;
        }
        this.error = "";
        this.busy = true;
        try {
          if (this.form.id)
            await NB.api.patch(
              NB.api.path`/product/${this.form.id}`,
              this.body(),
            );
          else await NB.api.post("/product", this.body());
          this.open = false;
          this.load();
        } catch (err) {
          this.error = err.message;
        } finally {
          this.busy = false;
        }
      },
      async remove(product) {
        this.listError = "";
        try {
          await NB.api.del(NB.api.path`/product/${product.id}`);
          this.load();
        } catch (err) {
          this.listError = `Could not delete ${product.name}: ${err.message}`;
        }
      },
      zoneName(id) {
        const zone = this.stall.shipping_zones.find((item) => item.id === id);
        return zone ? zone.name || zone.id : id;
      },
      onLive(event) {
        const { kind } = event.detail;
        if (kind === "catalogue" || kind === "payment") this.load();
        const held = ["order", "status", "payment"].includes(kind);
        if (held && this.open && this.form && this.form.id)
          this.loadReservations(this.form.id);
      },
    },
    mounted() {
      this.load();
      this.listener = (event) => this.onLive(event);
      NB.bus.addEventListener("live", this.listener);
    },
    unmounted() {
      clearTimeout(this.recheck);
      NB.bus.removeEventListener("live", this.listener);
    },
  };
})();
