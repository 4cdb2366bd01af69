/* The catalogue: products of the merchants' stalls, searchable by name and category. */
NB.components["nb-browse"] = {
  template: "#nb-browse",
  props: {
    stalls: { type: Array, required: true },
    products: { type: Array, required: true },
    profiles: { type: Object, required: true },
    merchants: { type: Array, required: true },
    relays: { type: Array, required: true },
    loading: { type: Boolean, default: false },
  },
  emits: ["add"],
  data() {
    return { search: "", category: null, stallKey: null };
  },
  computed: {
    categories() {
      return [
        ...new Set(this.products.flatMap((product) => product.categories)),
      ].sort();
    },
    stallOptions() {
      return [
        { label: "All stalls", value: null },
        ...this.stalls.map((stall) => ({
          label: stall.name,
          value: stall.key,
        })),
      ];
    },
    shown() {
      const words = this.search.toLowerCase().split(/\s+/).filter(Boolean);
      return this.products
        .filter(
          (product) =>
            !this.category || product.categories.includes(this.category),
        )
        .filter(
          (product) => !this.stallKey || product.stallKey === this.stallKey,
        )
        .filter((product) => {
          const text = `${product.name} ${product.description} ${product.categories.join(" ")}`;
          return words.every((word) => text.toLowerCase().includes(word));
        })
        .sort((a, b) => a.name.localeCompare(b.name));
    },
  },
  methods: {
    stallOf(product) {
      return this.stalls.find((stall) => stall.key === product.stallKey);
    },
    merchantName(product) {
      const profile = this.profiles[product.merchant] || {};
      return (
        profile.display_name ||
        profile.name ||
        NB.format.shortId(NB.format.npub(product.merchant), 8)
      );
    },
    toggleCategory(category) {
      this.category = this.category === category ? null : category;
    },
  },
};
