/* Jobs (restores): state, a live progress bar, cancel and retry, the summary when done. */
(function () {
  const COLORS = {
    queued: "grey-7",
    running: "primary",
    done: "positive",
    failed: "negative",
    cancelled: "grey-7",
    interrupted: "orange-8",
  };
  const STAGES = {
    fetching: "Reading your direct messages from the relays",
    placing: "Placing the orders found, oldest first",
    "checking payments": "Asking the wallet about the restored invoices",
    done: "Finished",
  };

  /** How far along a job's state is: queued, running, then one of the ends. */
  function rank(job) {
    return { queued: 0, running: 1 }[job.state] ?? 2;
  }

  NB.components["nb-jobs"] = {
    template: "#nb-jobs",
    props: { limit: { type: Number, default: 3 } },
    data() {
      return { jobs: [], error: "", busy: "" };
    },
    computed: {
      shown() {
        return this.jobs.slice(0, this.limit);
      },
    },
    methods: {
      async load() {
        try {
          this.jobs = (await NB.api.get(`/jobs?limit=${this.limit}`)) || [];
        } catch (err) {
          this.error = err.message;
        }
      },
      /** Add a job, or merge what is known of it (live messages carry the whole job). An
          older report (an HTTP answer overtaken by live messages) never winds it back. */
      upsert(job) {
        const index = this.jobs.findIndex((item) => item.id === job.id);
        if (index < 0) return this.jobs.unshift(job);
        const known = this.jobs[index];
        if (
          rank(job) < rank(known) ||
          (job.updated_at || 0) < (known.updated_at || 0)
        )
          return;
        this.jobs.splice(index, 1, { ...known, ...job });
      },
      active(job) {
        return job.state === "queued" || job.state === "running";
      },
      retryable(job) {
        return ["failed", "cancelled", "interrupted"].includes(job.state);
      },
      color(state) {
        return COLORS[state] || "grey-7";
      },
      fraction(job) {
        const value = job.progress && job.progress.fraction;
        return value === null || value === undefined ? null : Number(value);
      },
      bar(job) {
        if (job.state === "done") return 1;
        return this.fraction(job) || 0;
      },
      title(job) {
        return job.params && job.params.event_id
          ? "Restore of one order"
          : "Restore of every order";
      },
      when(job) {
        const start = job.started_at || job.created_at;
        const end = job.ended_at ? ` – ${NB.format.date(job.ended_at)}` : "";
        return `${NB.format.date(start)}${end}`;
      },
      stage(job) {
        const progress = job.progress || {};
        if (!this.active(job)) return "";
        if (job.state === "queued") return "Waiting for another restore to end";
        return STAGES[progress.stage] || progress.stage || "Starting";
      },
      counts(job) {
        const p = job.progress || {};
        const parts = [];
        if (p.events_scanned) parts.push(`${p.events_scanned} messages read`);
        if (p.orders_total) {
          const done =
            (p.orders_placed || 0) +
            (p.orders_refused || 0) +
            (p.orders_known || 0);
          parts.push(`${done} of ${p.orders_total} orders`);
        }
        if (p.orders_refused) parts.push(`${p.orders_refused} refused`);
        if (p.orders_adopted) parts.push(`${p.orders_adopted} adopted`);
        if (p.errors) parts.push(`${p.errors} could not be used`);
        return parts.join(" · ");
      },
      relays(job) {
        return Object.entries((job.progress && job.progress.relays) || {});
      },
      async act(job, action) {
        this.busy = `${action}-${job.id}`;
        this.error = "";
        try {
          this.upsert(await NB.api.put(NB.api.path`/jobs/${job.id}/${action}`));
        } catch (err) {
          this.error = err.message;
        } finally {
          this.busy = "";
        }
      },
      onLive(event) {
        const { kind, data } = event.detail;
        if (kind === "job" && data && data.id) this.upsert(data);
      },
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
