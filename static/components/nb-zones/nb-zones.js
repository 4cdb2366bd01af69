/* Shipping zones: name, currency, base cost and the countries they cover, picked by name
   (GET /countries; the zone keeps ISO 3166-1 codes). */
(function () {
  let countryList = null; // one GET /countries per page

  function blank() {
    return { id: null, name: "", currency: "sat", cost: "0", countries: [] };
  }

  function loadCountries() {
    countryList =
      countryList ||
      NB.api.get("/countries", "").catch(() => {
        countryList = null;
        return [];
      });
    return countryList;
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
        countries: [],
        countryOptions: [],
      };
    },
    computed: {
      countryNames() {
        return Object.fromEntries(
          this.countries.map((country) => [country.code, country.name]),
        );
      },
    },
    methods: {
      /** A zone's regions by name: "Germany, France" (a code we do not know as it is). */
      regionNames(zone) {
        return zone.countries
          .map((code) => this.countryNames[code] || code)
          .join(", ");
      },
      filterCountries(text, update) {
        const wanted = text.trim().toLowerCase();
        update(() => {
          this.countryOptions = wanted
            ? this.countries.filter(
                (country) =>
                  country.name.toLowerCase().includes(wanted) ||
                  country.code.toLowerCase() === wanted,
              )
            : this.countries;
        });
      },
      /** Enter on typed text: the country it names (code or name), else the text itself,
          which the server then explains. */
      addCountry(text, done) {
        const wanted = text.trim().toLowerCase();
        const found = this.countries.find(
          (country) =>
            country.code.toLowerCase() === wanted ||
            country.name.toLowerCase() === wanted,
        );
        done(found ? found.code : text.trim(), "add-unique");
      },
      edit(zone) {
        this.form = zone
          ? {
              ...zone,
              cost: NB.format.decimal(zone.cost),
              countries: [...zone.countries],
            }
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
    async mounted() {
      this.countries = await loadCountries();
      this.countryOptions = this.countries;
    },
  };
})();
