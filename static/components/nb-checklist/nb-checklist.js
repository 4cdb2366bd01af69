/* First run: the steps from no keys to a published product; gone once every one is done. */
(function () {
  const HINTS = {
    keys: ["Create your shop's keys below (or import your nsec).", null, ""],
    zone: ["Where you ship, and what it costs.", "catalogue", "Add a zone"],
    stall: [
      "A stall holds products and names its shipping zones.",
      "catalogue",
      "Add a stall",
    ],
    product: [
      "A name, a price and how many you have.",
      "catalogue",
      "Add a product",
    ],
    publish: [
      "Your products go out to the relays as soon as one takes them; check the relays on the Merchant tab.",
      "merchant",
      "Check relays",
    ],
  };
  const FIRST_STEPS = [
    { key: "keys", label: "Keys for your shop", done: false },
    { key: "zone", label: "A shipping zone", done: false },
    { key: "stall", label: "A stall", done: false },
    { key: "product", label: "A product", done: false },
    { key: "publish", label: "Published to a relay", done: false },
  ];

  NB.components["nb-checklist"] = {
    template: "#nb-checklist",
    props: { merchant: { type: Object, default: null } },
    emits: ["go"],
    data() {
      return { steps: [], done: false, loaded: false };
    },
    computed: {
      shown() {
        return this.steps.map((step) => {
          const [hint, tab, action] = HINTS[step.key] || ["", null, ""];
          // Before the merchant exists there are no tabs to go to: the form is below.
          return { ...step, hint, tab: this.merchant ? tab : null, action };
        });
      },
      remaining() {
        return this.steps.filter((step) => !step.done).length;
      },
    },
    methods: {
      async load() {
        if (!this.merchant) {
          this.steps = FIRST_STEPS;
          this.done = false;
          this.loaded = true;
          return;
        }
        try {
          const setup = await NB.api.get("/setup");
          this.steps = setup.steps;
          this.done = setup.done;
          this.loaded = true;
        } catch {
          /* no checklist rather than a broken one */
        }
      },
      onLive(event) {
        if (["catalogue", "outbox"].includes(event.detail.kind)) this.reload();
      },
    },
    watch: {
      merchant() {
        this.load();
      },
    },
    created() {
      this.reload = NB.ops.debounce(() => this.load(), 500);
    },
    mounted() {
      this.load();
      this.listener = (event) => this.onLive(event);
      NB.bus.addEventListener("live", this.listener);
    },
    unmounted() {
      NB.bus.removeEventListener("live", this.listener);
    },
  };
})();
