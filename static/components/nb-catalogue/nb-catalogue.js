/* The catalogue tab: holds zones, stalls and currencies; children edit them. */
NB.components["nb-catalogue"] = {
  template: "#nb-catalogue",
  props: { merchant: { type: Object, required: true } },
  data() {
    return {
      zones: [],
      stalls: [],
      currencies: ["sat"],
      stallId: null,
      error: "",
      downloading: false,
    };
  },
  computed: {
    selectedStall() {
      return this.stalls.find((stall) => stall.id === this.stallId) || null;
    },
  },
  methods: {
    async load() {
      this.error = "";
      try {
        const [zones, stalls] = await Promise.all([
          NB.api.get("/zone"),
          NB.api.get("/stall"),
        ]);
        this.zones = zones || [];
        this.stalls = (stalls || []).filter((stall) => !stall.pending);
        this.recheckPending(this.stalls);
        if (!this.selectedStall)
          this.stallId = this.stalls.length ? this.stalls[0].id : null;
      } catch (err) {
        this.error = err.message;
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
    async loadCurrencies() {
      try {
        const currencies = await NB.api.get("/currencies");
        if (Array.isArray(currencies) && currencies.length)
          this.currencies = currencies;
      } catch {
        this.currencies = ["sat"];
      }
    },
    async downloadProducts() {
      this.downloading = true;
      this.error = "";
      try {
        await NB.ops.download(
          "/product/export.csv",
          `products-${NB.ops.today()}.csv`,
        );
      } catch (err) {
        this.error = err.message;
      } finally {
        this.downloading = false;
      }
    },
    onLive(event) {
      if (event.detail.kind === "catalogue") this.load();
    },
  },
  mounted() {
    this.load();
    this.loadCurrencies();
    this.listener = (event) => this.onLive(event);
    NB.bus.addEventListener("live", this.listener);
  },
  unmounted() {
    clearTimeout(this.recheck);
    NB.bus.removeEventListener("live", this.listener);
  },
};
