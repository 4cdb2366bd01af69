/* Relays: the server's and the merchant's own, each with its live connection state in
   plain words (NB.relays). */
(function () {
  const POLL_SECONDS = 15;

  NB.components["nb-relay-status"] = {
    template: "#nb-relay-status",
    props: { merchant: { type: Object, required: true } },
    emits: ["changed"],
    data() {
      return {
        states: {},
        healthError: "",
        newRelay: "",
        saving: false,
        error: "",
      };
    },
    computed: {
      rows() {
        const own = this.merchant.relays || [];
        const urls = [...new Set([...Object.keys(this.states), ...own])];
        return urls.map((url) => {
          const state = NB.relays.describe(this.states[url] || "configured");
          return {
            url,
            own: own.includes(url),
            state: state.text,
            tone: state.tone,
          };
        });
      },
    },
    methods: {
      async poll() {
        try {
          const health = await NB.api.get("/health");
          this.states = { ...this.states, ...(health.relays || {}) };
          this.healthError = "";
        } catch (err) {
          this.healthError = err.message;
        }
      },
      onLive(event) {
        const { kind, data } = event.detail;
        if (kind === "hello" && data.relays)
          this.states = { ...this.states, ...data.relays };
        if (kind === "relay" && data.url) {
          this.states = {
            ...this.states,
            [data.url]: data.status || data.state,
          };
        }
      },
      async save(relays) {
        this.error = "";
        this.saving = true;
        try {
          this.$emit(
            "changed",
            await NB.api.patch(NB.api.path`/merchant/${this.merchant.id}`, {
              relays,
            }),
          );
          this.newRelay = "";
          this.poll();
        } catch (err) {
          this.error = err.message;
        } finally {
          this.saving = false;
        }
      },
      add() {
        const url = this.newRelay.trim();
        if (!/^wss?:\/\/\S+$/.test(url)) {
          this.error =
            "A relay address starts with wss:// (or ws:// for a local one).";
          return;
        }
        this.save([...(this.merchant.relays || []), url]);
      },
      remove(url) {
        this.save((this.merchant.relays || []).filter((item) => item !== url));
      },
    },
    mounted() {
      this.poll();
      this.timer = setInterval(() => this.poll(), POLL_SECONDS * 1000);
      this.listener = (event) => this.onLive(event);
      NB.bus.addEventListener("live", this.listener);
    },
    unmounted() {
      clearInterval(this.timer);
      NB.bus.removeEventListener("live", this.listener);
    },
  };
})();
