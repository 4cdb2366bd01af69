/* What a restore from the relays did: counts, and the reasons for what it skipped. */
(function () {
  const LABELS = {
    events_scanned: "messages read",
    events_new: "new messages",
    orders_restored: "orders restored",
    orders_updated: "orders updated",
    errors: "could not be used",
  };

  NB.components["nb-restore-summary"] = {
    template: "#nb-restore-summary",
    props: { summary: { type: Object, required: true } },
    computed: {
      counts() {
        return Object.entries(this.summary)
          .filter(([, value]) => typeof value === "number")
          .map(([key, value]) => ({
            key,
            label: LABELS[key] || key.replace(/_/g, " "),
            value,
          }));
      },
      reasons() {
        return Array.isArray(this.summary.reasons) ? this.summary.reasons : [];
      },
      /** Relays the restore could not read (fully): their part of the history may be missing. */
      unread() {
        return Object.entries(this.summary.relays_unread || {}).map(
          ([url, why]) => `${url}: ${why}`,
        );
      },
    },
  };
})();
