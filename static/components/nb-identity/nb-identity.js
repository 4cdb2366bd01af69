/* Who the customer is: the extension's key or a local one, with backup and import. */
NB.components["nb-identity"] = {
  template: "#nb-identity",
  props: { signer: { type: Object, default: null } },
  emits: ["changed"],
  data() {
    return { open: false, importText: "", error: "" };
  },
  computed: {
    npub() {
      return this.signer ? NB.format.npub(this.signer.publicKey) : "";
    },
  },
  methods: {
    importKey() {
      this.error = "";
      try {
        this.$emit("changed", NB.signer.importSecret(this.importText));
        this.importText = "";
        this.open = false;
      } catch (err) {
        this.error = err.message || "That key could not be read.";
      }
    },
  },
};
