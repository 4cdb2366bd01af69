/* Sign in with an admin key (kept in sessionStorage only), or create an account. */
NB.components["nb-sign-in"] = {
  template: "#nb-sign-in",
  emits: ["signed-in"],
  data() {
    return {
      key: "",
      busy: false,
      error: "",
      accountName: "",
      creating: false,
      createError: "",
      account: null,
    };
  },
  methods: {
    async signIn() {
      const key = this.key.trim();
      this.error = "";
      if (!key) {
        this.error = "Paste your admin key first.";
        return;
      }
      this.busy = true;
      try {
        await this.verify(key);
        NB.api.setKey(key);
        this.$emit("signed-in");
      } catch (err) {
        this.error = err.message;
      } finally {
        this.busy = false;
      }
    },
    /** Resolve when the server accepts `key`; reject with a readable reason. */
    async verify(key) {
      try {
        await NB.api.get("/merchant", key);
      } catch (err) {
        if (err.status === 404) return;
        if (err.status === 401) {
          throw new NB.ApiError(
            401,
            "The server refused this admin key. Check that you pasted the whole key.",
          );
        }
        throw err;
      }
    },
    async createAccount() {
      this.createError = "";
      this.creating = true;
      try {
        const name = this.accountName.trim() || "merchant";
        this.account = await NB.api.request("POST", "/account", { name }, "");
      } catch (err) {
        this.createError = err.message;
      } finally {
        this.creating = false;
      }
    },
    useNewAccount() {
      NB.api.setKey(this.account.adminkey);
      this.$emit("signed-in");
    },
  },
};
