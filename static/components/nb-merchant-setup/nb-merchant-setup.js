/* First run: generate the merchant's Nostr keys on the server, or import a private key. */
NB.components["nb-merchant-setup"] = {
  template: "#nb-merchant-setup",
  emits: ["created"],
  data() {
    return {
      mode: "generate",
      privateKey: "",
      name: "",
      defaultZone: true,
      busy: false,
      error: "",
    };
  },
  methods: {
    async create() {
      this.error = "";
      const body = {
        config: this.name.trim() ? { name: this.name.trim() } : {},
        default_zone: this.defaultZone,
      };
      if (this.mode === "import") {
        const key = this.privateKey.trim();
        if (!key) {
          this.error = "Paste the private key (nsec… or 64 hex characters).";
          return;
        }
        body.private_key = key;
      }
      this.busy = true;
      try {
        this.$emit("created", await NB.api.post("/merchant", body));
      } catch (err) {
        this.error = err.message;
      } finally {
        this.busy = false;
      }
    },
  },
};
