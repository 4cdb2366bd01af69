/* Stalls: name, currency, description, image and the shipping zones they offer. */
(function () {
  function blank() {
    return {
      id: null,
      name: "",
      currency: "sat",
      description: "",
      image_url: "",
      zoneIds: [],
    };
  }

  function formOf(stall) {
    return {
      id: stall.id,
      name: stall.name,
      currency: stall.currency,
      description: stall.config.description || "",
      image_url: stall.config.image_url || "",
      zoneIds: stall.shipping_zones.map((zone) => zone.id),
    };
  }

  NB.components["nb-stalls"] = {
    template: "#nb-stalls",
    props: {
      stalls: { type: Array, required: true },
      zones: { type: Array, required: true },
      currencies: { type: Array, required: true },
      selected: { type: String, default: null },
    },
    emits: ["changed", "select"],
    data() {
      return {
        open: false,
        form: blank(),
        busy: false,
        error: "",
        listError: "",
      };
    },
    computed: {
      zoneOptions() {
        return this.zones.map((zone) => ({
          label: `${zone.name || zone.id} (${NB.format.money(zone.cost, zone.currency)})`,
          value: zone.id,
        }));
      },
    },
    methods: {
      edit(stall) {
        this.form = stall ? formOf(stall) : blank();
        this.error = "";
        this.open = true;
      },
      body() {
        return {
          name: this.form.name.trim(),
          currency: this.form.currency,
          shipping_zones: this.form.zoneIds,
          config: {
            description: this.form.description.trim() || null,
            image_url: this.form.image_url.trim() || null,
          },
        };
      },
      async save() {
        this.error = "";
        if (!this.form.zoneIds.length) {
          this.error =
            "Choose at least one shipping zone (create one first if there is none).";
          return;
        }
        this.busy = true;
        try {
          const stall = this.form.id
            ? await NB.api.put(NB.api.path`/stall/${this.form.id}`, this.body())
            : await NB.api.post("/stall", this.body());
          this.open = false;
          this.$emit("changed");
          if (stall && stall.id) this.$emit("select", stall.id);
        } catch (err) {
          this.error = err.message;
        } finally {
          this.busy = false;
        }
      },
      async remove(stall) {
        this.listError = "";
        try {
          await NB.api.del(NB.api.path`/stall/${stall.id}`);
          this.$emit("changed");
        } catch (err) {
          this.listError = `Could not delete ${stall.name}: ${err.message}`;
        }
      },
    },
  };
})();
