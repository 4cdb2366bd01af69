/* Sales: orders per day (placed, paid, expired, refused) and revenue as SVG bar charts,
   the paid share, the median time to payment and the top products; live. */
(function () {
  const SERIES = [
    { key: "placed", label: "Placed", color: "#1976d2" },
    { key: "paid", label: "Paid", color: "#21ba45" },
    { key: "expired", label: "Expired", color: "#9e9e9e" },
    { key: "refused", label: "Refused", color: "#c10015" },
  ];
  const REVENUE = [
    { key: "revenue_sat", label: "Revenue (sats)", color: "#f2c037" },
  ];
  const WIDTH = 640;
  const HEIGHT = 180;
  const LEFT = 36;
  const BOTTOM = 20;

  /** Bars for `rows` (one group per day, one bar per series), scaled to the chart. */
  function bars(rows, series) {
    const top = Math.max(
      1,
      ...rows.flatMap((row) => series.map((s) => row[s.key])),
    );
    const plot = HEIGHT - BOTTOM - 8;
    const group = (WIDTH - LEFT) / Math.max(1, rows.length);
    const width = Math.max(1, (group * 0.8) / series.length);
    const out = [];
    rows.forEach((row, day) => {
      series.forEach((s, index) => {
        const height = (row[s.key] / top) * plot;
        out.push({
          id: `${row.date}-${s.key}`,
          x: LEFT + day * group + group * 0.1 + index * width,
          y: HEIGHT - BOTTOM - height,
          width,
          height,
          fill: s.color,
          title: `${row.date} · ${s.label}: ${row[s.key].toLocaleString("en-US")}`,
        });
      });
    });
    return { bars: out, top };
  }

  function ticks(rows) {
    if (!rows.length) return [];
    const group = (WIDTH - LEFT) / rows.length;
    const picks = [
      ...new Set([0, Math.floor(rows.length / 2), rows.length - 1]),
    ];
    return picks.map((index) => ({
      x: LEFT + index * group + group / 2,
      label: rows[index].date.slice(5),
    }));
  }

  NB.components["nb-stats"] = {
    template: "#nb-stats",
    props: { active: { type: Boolean, default: true } },
    data() {
      return {
        days: 30,
        dayOptions: [
          { label: "7 days", value: 7 },
          { label: "30 days", value: 30 },
          { label: "90 days", value: 90 },
        ],
        stats: null,
        loading: false,
        error: "",
        series: SERIES,
        width: WIDTH,
        height: HEIGHT,
        left: LEFT,
        bottom: BOTTOM,
      };
    },
    computed: {
      orders() {
        return this.stats
          ? bars(this.stats.per_day, SERIES)
          : { bars: [], top: 0 };
      },
      revenue() {
        return this.stats
          ? bars(this.stats.per_day, REVENUE)
          : { bars: [], top: 0 };
      },
      ticks() {
        return this.stats ? ticks(this.stats.per_day) : [];
      },
      tiles() {
        const s = this.stats;
        if (!s) return [];
        const share =
          s.paid_share === null ? "–" : `${Math.round(s.paid_share * 100)} %`;
        return [
          { key: "placed", label: "Orders placed", value: s.totals.placed },
          { key: "paid", label: "Paid", value: s.totals.paid },
          {
            key: "revenue",
            label: "Revenue",
            value: NB.format.sats(s.totals.revenue_sat),
          },
          { key: "share", label: "Paid share", value: share },
          {
            key: "median",
            label: "Median time to payment",
            value: NB.ops.duration(s.median_seconds_to_payment),
          },
        ];
      },
    },
    methods: {
      async load() {
        this.loading = true;
        this.error = "";
        const offset = -new Date().getTimezoneOffset();
        try {
          this.stats = await NB.api.get(
            `/stats${NB.api.query({ days: this.days, tz_offset: offset })}`,
          );
        } catch (err) {
          this.error = err.message;
        } finally {
          this.loading = false;
        }
      },
      onLive(event) {
        if (["order", "payment", "status"].includes(event.detail.kind))
          this.reload();
      },
    },
    watch: {
      active(value) {
        if (value) this.load();
      },
    },
    created() {
      this.reload = NB.ops.debounce(() => this.load(), 1000);
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
