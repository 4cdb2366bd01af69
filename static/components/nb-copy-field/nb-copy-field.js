/* A read-only value with a copy button, optionally hidden until asked for. */
NB.components["nb-copy-field"] = {
  template: "#nb-copy-field",
  props: {
    label: { type: String, required: true },
    value: { type: String, default: "" },
    secret: { type: Boolean, default: false },
  },
  data() {
    return { shown: !this.secret };
  },
  methods: {
    async copy() {
      const ok = await NB.format.copy(this.value);
      this.$q.notify({
        message: ok
          ? `${this.label} copied`
          : "Copy failed: select the text instead",
        type: ok ? "positive" : "warning",
        timeout: 1500,
      });
    },
  },
};
