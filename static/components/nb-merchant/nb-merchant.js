/* The merchant: keys on request, kind 0 profile, relays, active toggle, republish. */
(function () {
  const PROFILE_FIELDS = [
    ["name", "Name"],
    ["display_name", "Display name"],
    ["about", "About"],
    ["picture", "Picture URL"],
    ["banner", "Banner URL"],
    ["website", "Website"],
    ["nip05", "NIP-05 address"],
    ["lud16", "Lightning address"],
  ];

  function profileOf(merchant) {
    const config = merchant.config || {};
    return Object.fromEntries(
      PROFILE_FIELDS.map(([key]) => [key, config[key] || ""]),
    );
  }

  NB.components["nb-merchant"] = {
    template: "#nb-merchant",
    props: {
      merchant: { type: Object, required: true },
      live: { type: Object, default: null },
    },
    emits: ["changed"],
    data() {
      return {
        fields: PROFILE_FIELDS,
        profile: profileOf(this.merchant),
        showKeys: false,
        saving: false,
        profileError: "",
        toggling: false,
        toggleError: "",
        publishing: false,
        publishError: "",
        publishResult: null,
        ecash: null,
        ecashMints: "",
        ecashBusy: false,
        ecashError: "",
        meltInvoice: {},
        exported: "",
      };
    },
    mounted() {
      this.loadEcash();
    },
    computed: {
      active() {
        return Boolean(this.merchant.config && this.merchant.config.active);
      },
      profileWhy() {
        const publication = this.merchant.publication || {};
        return NB.format.publicationWhy({ publication: publication.profile });
      },
      profileStatus() {
        const publication = this.merchant.publication || {};
        return NB.format.publication({ publication: publication.profile });
      },
    },
    watch: {
      merchant(value) {
        this.profile = profileOf(value);
      },
    },
    methods: {
      async saveProfile() {
        this.profileError = "";
        this.saving = true;
        const config = Object.fromEntries(
          Object.entries(this.profile).map(([key, value]) => [
            key,
            value.trim() || null,
          ]),
        );
        try {
          this.$emit(
            "changed",
            await NB.api.patch(NB.api.path`/merchant/${this.merchant.id}`, {
              config,
            }),
          );
          this.$q.notify({
            message: "Profile saved and queued for publishing",
            type: "positive",
          });
        } catch (err) {
          this.profileError = err.message;
        } finally {
          this.saving = false;
        }
      },
      async toggleActive() {
        this.toggleError = "";
        this.toggling = true;
        try {
          await NB.api.put(NB.api.path`/merchant/${this.merchant.id}/toggle`);
          this.$emit("changed", await NB.api.get("/merchant"));
        } catch (err) {
          this.toggleError = err.message;
        } finally {
          this.toggling = false;
        }
      },
      async loadEcash() {
        try {
          this.ecash = await NB.api.get("/cashu");
          this.ecashMints = this.ecash.merchant_mints.join("\n");
        } catch (err) {
          this.ecashError = err.message;
        }
      },
      async ecashAction(action) {
        this.ecashError = "";
        this.ecashBusy = true;
        try {
          await action();
          await this.loadEcash();
        } catch (err) {
          this.ecashError = err.message;
        } finally {
          this.ecashBusy = false;
        }
      },
      saveMints() {
        const mints = this.ecashMints.split(/[\s,]+/).filter(Boolean);
        return this.ecashAction(() => NB.api.put("/cashu/mints", { mints }));
      },
      exportToken(mint) {
        return this.ecashAction(async () => {
          this.exported = (await NB.api.post("/cashu/export", { mint })).token;
        });
      },
      melt(mint) {
        const bolt11 = (this.meltInvoice[mint] || "").trim();
        return this.ecashAction(async () => {
          const done = await NB.api.post("/cashu/melt", { mint, bolt11 });
          this.meltInvoice[mint] = "";
          this.$q.notify({
            message: `Paid ${done.amount} sats (fee ${done.fee})`,
            type: "positive",
          });
        });
      },
      async republish() {
        this.publishError = "";
        this.publishResult = null;
        this.publishing = true;
        try {
          this.publishResult = await NB.api.put(
            NB.api.path`/merchant/${this.merchant.id}/nostr`,
          );
          // Stalls and products it found wait in the catalogue tab: tell it to look.
          const detail = { kind: "catalogue", data: { source: "republish" } };
          NB.bus.dispatchEvent(new CustomEvent("live", { detail }));
          this.$emit("changed", await NB.api.get("/merchant"));
        } catch (err) {
          this.publishError = err.message;
        } finally {
          this.publishing = false;
        }
      },
    },
  };
})();
