/* Orders: searched, filtered by date and status, sorted, paginated on the server with a
   total; live refresh that keeps the page; refused orders apart (their own view and count);
   rows selected for bulk ship or cancel (nb-order-bulk); each open order at its own address
   (#/orders/<id>); CSV download; restore everything from DMs (a job). */
(function () {
  const ANY_YES_NO = [
    { label: "Any", value: null },
    { label: "Yes", value: true },
    { label: "No", value: false },
  ];

  // The table's sortable columns -> GET /order's `sort`.
  const SORTS = { created: "created_at", total: "total", status: "status" };

  NB.components["nb-orders"] = {
    template: "#nb-orders",
    props: { merchant: { type: Object, required: true } },
    data() {
      return {
        filters: {
          status: null,
          paid: null,
          shipped: null,
          customer: "",
          search: "",
          from: "",
          to: "",
        },
        // Refusals have a view of their own, so the status filter leaves them out.
        statusOptions: [
          { label: "Any", value: null },
          ...NB.orders.statuses
            .filter((status) => status !== "rejected")
            .map((status) => ({
              label: NB.orders.label(status),
              value: status,
            })),
        ],
        view: "orders",
        refusedCount: 0,
        yesNo: ANY_YES_NO,
        rows: [],
        loading: false,
        error: "",
        pagination: {
          page: 1,
          rowsPerPage: 10,
          rowsNumber: 0,
          sortBy: "created",
          descending: true,
        },
        openId: null,
        selected: [],
        restoring: false,
        restoreError: "",
        downloading: false,
        columns: [
          {
            name: "created",
            label: "Created",
            field: "created",
            align: "left",
            sortable: true,
          },
          { name: "id", label: "Order", field: "id", align: "left" },
          {
            name: "customer",
            label: "Customer",
            field: "customer",
            align: "left",
          },
          {
            name: "total",
            label: "Total",
            field: "total",
            align: "right",
            sortable: true,
          },
          {
            name: "status",
            label: "Status",
            field: "status",
            align: "left",
            sortable: true,
          },
        ],
      };
    },
    methods: {
      /** The filters as GET /order (and the CSV export) take them. */
      filterParams() {
        const customer = this.filters.customer.trim();
        const to = NB.ops.dayStart(this.filters.to);
        return {
          status: this.view === "refused" ? null : this.filters.status,
          paid: this.view === "refused" ? null : this.filters.paid,
          shipped: this.view === "refused" ? null : this.filters.shipped,
          pubkey: customer
            ? NB.format.publicKeyHex(customer) || customer
            : null,
          q: (this.filters.search || "").trim(),
          refused: this.view === "refused" ? "true" : "false",
          since: NB.ops.dayStart(this.filters.from),
          until: to === null ? null : to + 86400,
        };
      },
      query(page, size, sortBy, descending) {
        return NB.api.query({
          ...this.filterParams(),
          sort: SORTS[sortBy] || "created_at",
          desc: descending === false ? "false" : null,
          total: "true",
          limit: size,
          offset: (page - 1) * size,
        });
      },
      async request(props) {
        const { page, rowsPerPage, sortBy, descending } =
          (props && props.pagination) || this.pagination;
        this.loading = true;
        this.error = "";
        try {
          const { rows, total } = NB.orders.rows(
            await NB.api.get(
              `/order${this.query(page, rowsPerPage, sortBy, descending)}`,
            ),
          );
          this.rows = rows.map((order) => this.row(order));
          const seen = (page - 1) * rowsPerPage + rows.length;
          const more = rows.length === rowsPerPage ? 1 : 0;
          this.pagination = {
            ...this.pagination,
            page,
            rowsPerPage,
            sortBy,
            descending,
            rowsNumber: total === null ? seen + more : total,
          };
        } catch (err) {
          this.error = err.message;
        } finally {
          this.loading = false;
        }
        this.countRefused();
      },
      /** How many orders were refused (the count on the "Refused" view's button). */
      async countRefused() {
        try {
          const found = await NB.api.get(
            `/order${NB.api.query({ refused: "true", total: "true", limit: 1 })}`,
          );
          this.refusedCount = NB.orders.rows(found).total || 0;
        } catch {
          // the table's own error says what is wrong with the server
        }
      },
      /** Orders or refusals: the same filters and sort, from the first page. */
      showView(view) {
        this.view = view;
        this.selected = [];
        this.applyFilters();
      },
      /** The address names an order (or another tab): open it (or close the open one). */
      onRoute(event) {
        const route = event.detail;
        this.openId = route.tab === "orders" ? route.id : null;
      },
      row(order) {
        return {
          id: order.id,
          created: NB.format.date(NB.orders.createdAt(order)),
          customer:
            order.name ||
            NB.format.shortId(NB.format.npub(order.public_key), 10),
          total:
            order.status === "rejected" && !order.total_msat
              ? "–"
              : NB.format.sats(NB.orders.satsOf(order, "total")),
          status: order.status,
          reason: order.status === "rejected" ? order.reason : "",
        };
      },
      applyFilters() {
        this.request({ pagination: { ...this.pagination, page: 1 } });
      },
      /** Start a restore job; the jobs panel shows its progress (409: one is running). */
      async restoreAll() {
        this.restoreError = "";
        this.restoring = true;
        try {
          this.$refs.jobs.upsert(await NB.api.put("/orders/restore"));
        } catch (err) {
          this.restoreError = err.message;
        } finally {
          this.restoring = false;
        }
      },
      async download() {
        this.downloading = true;
        this.error = "";
        try {
          const query = NB.api.query(this.filterParams());
          await NB.ops.download(
            `/order/export.csv${query}`,
            `orders-${NB.ops.today()}.csv`,
          );
        } catch (err) {
          this.error = err.message;
        } finally {
          this.downloading = false;
        }
      },
      onLive(event) {
        const { kind, data } = event.detail;
        if (["order", "payment", "status"].includes(kind)) this.refresh();
        if (kind === "job" && data && data.state === "done") this.refresh();
      },
      onOpenOrder(event) {
        this.openId = event.detail;
      },
    },
    watch: {
      openId(value) {
        // The open order is in the address (shareable, reopened by back and forward).
        if (!value && NB.route.parse(location.hash).tab !== "orders") return;
        const address = NB.route.build("orders", value);
        if (location.hash !== address) location.hash = address;
      },
    },
    created() {
      // The current page again (same page, sort and filters), once a burst of news settles.
      this.refresh = NB.ops.debounce(() => this.request(), 300);
    },
    mounted() {
      this.request();
      const route = NB.route.parse(location.hash);
      if (route.tab === "orders" && route.id) this.openId = route.id;
      this.listener = (event) => this.onLive(event);
      this.opener = (event) => this.onOpenOrder(event);
      this.router = (event) => this.onRoute(event);
      NB.bus.addEventListener("live", this.listener);
      NB.bus.addEventListener("open-order", this.opener);
      NB.bus.addEventListener("route", this.router);
    },
    unmounted() {
      NB.bus.removeEventListener("live", this.listener);
      NB.bus.removeEventListener("open-order", this.opener);
      NB.bus.removeEventListener("route", this.router);
    },
  };
})();
