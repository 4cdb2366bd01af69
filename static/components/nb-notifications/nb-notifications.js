/* The bell: unread notifications counted live; the list, marking read, the DM setting. */
(function () {
  const COLORS = {
    low: "grey-7",
    normal: "primary",
    high: "orange-9",
    critical: "negative",
  };
  const ICONS = {
    outbox_failed: "outbox",
    wallet_unreachable: "bolt",
    relay_down: "cloud_off",
    refund_needed: "currency_exchange",
    job_failed: "restore",
    payment_unmatched: "help_center",
  };

  NB.components["nb-notifications"] = {
    template: "#nb-notifications",
    emits: ["open-order"],
    data() {
      return {
        items: [],
        unread: 0,
        dmUrgent: false,
        error: "",
        loaded: false,
      };
    },
    methods: {
      async load() {
        this.error = "";
        try {
          const [items, settings] = await Promise.all([
            NB.api.get("/notifications?limit=30"),
            NB.api.get("/notifications/settings"),
          ]);
          this.items = items || [];
          this.dmUrgent = Boolean(settings && settings.dm_urgent);
          this.loaded = true;
        } catch (err) {
          this.error = err.message;
        }
      },
      async count() {
        try {
          this.unread = (await NB.api.get("/notifications/unread")).unread;
        } catch {
          /* the bell keeps its last count */
        }
      },
      color(priority) {
        return COLORS[priority] || "grey-7";
      },
      icon(note) {
        return ICONS[note.type] || "notifications";
      },
      async open(note) {
        if (!note.read) {
          try {
            const read = await NB.api.put(
              NB.api.path`/notifications/${note.id}/read`,
            );
            Object.assign(note, read);
          } catch (err) {
            this.error = err.message;
          }
        }
        if (note.object && note.object.type === "order")
          this.$emit("open-order", note.object.id);
      },
      async readAll() {
        try {
          this.unread = (await NB.api.put("/notifications/read")).unread;
          this.items.forEach((note) => (note.read = true));
        } catch (err) {
          this.error = err.message;
        }
      },
      async saveSetting(value) {
        try {
          await NB.api.put("/notifications/settings", { dm_urgent: value });
        } catch (err) {
          this.dmUrgent = !value;
          this.error = err.message;
        }
      },
      onLive(event) {
        const { kind, data } = event.detail;
        if (kind === "hello" && data)
          this.unread = data.unread_notifications || 0;
        if (kind !== "notification" || !data) return;
        if (data.action === "new" && data.notification) {
          this.items.unshift(data.notification);
          this.unread += 1;
        } else if (data.action === "read") {
          this.unread = data.unread;
          const all = data.ids === "all";
          this.items.forEach((note) => {
            if (all || data.ids.includes(note.id)) note.read = true;
          });
        }
      },
    },
    mounted() {
      this.count();
      this.listener = (event) => this.onLive(event);
      NB.bus.addEventListener("live", this.listener);
    },
    unmounted() {
      NB.bus.removeEventListener("live", this.listener);
    },
  };
})();
