/* A QR code drawn as SVG by the vendored qrcode-generator; nothing leaves the page. */
NB.components["nb-qr"] = {
  template: "#nb-qr",
  props: { value: { type: String, required: true } },
  computed: {
    svg() {
      const code = qrcode(0, "M");
      const upper = this.value.toUpperCase();
      code.addData(
        upper,
        /^[0-9A-Z $%*+\-./:]*$/.test(upper) ? "Alphanumeric" : "Byte",
      );
      code.make();
      return code.createSvgTag({ cellSize: 4, margin: 2, scalable: true });
    },
  },
};
