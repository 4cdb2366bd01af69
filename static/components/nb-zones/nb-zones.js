/* Shipping zones: name, currency, base cost and the regions they cover. */
(function () {
  function blank() {
    return { id: null, name: "", currency: "sat", cost: "0", countries: [] };
  }

  NB.components["nb-zones"] = {
    template: "#nb-zones",
    props: {
      zones: { type: Array, required: true },
      currencies: { type: Array, required: true },
    },
    emits: ["changed"],
    data() {
      return {
        open: false,
        form: blank(),
        busy: false,
        error: "",
        listError: "",
      };
    },
    methods: {
      edit(zone) {
        this.form = zone
          ? { ...zone, cost: String(zone.cost), countries: [...zone.countries] }
          : blank();
        this.error = "";
        this.open = true;
      },
      async save() {
        this.error = "";
        this.busy = true;
        const body = {
          name: this.form.name.trim() || null,
          currency: this.form.currency,
          cost: String(this.form.cost || "0").trim(),
          countries: this.form.countries,
        };
        try {
          if (this.form.id)
            await NB.api.patch(NB.api.path`/zone/${this.form.id}`, body);
          else await NB.api.post("/zone", body);
          this.open = false;
          this.$emit("changed");
        } catch (err) {
          this.error = err.message;
        } finally {
          this.busy = false;
        }
      },
      async remove(zone) {
        this.listError = "";
        try {
          await NB.api.del(NB.api.path`/zone/${zone.id}`);
          this.$emit("changed");
        } catch (err) {
          this.listError = `Could not delete ${zone.name || "the zone"}: ${err.message}`;
        }
      },
    },
  };
})();
