/* Orders: filtered, newest first, paginated; live refresh; restore everything from DMs. */
(function () {
  const ANY_YES_NO = [
    { label: "Any", value: null },
    { label: "Yes", value: true },
    { label: "No", value: false },
  ];

  NB.components["nb-orders"] = {
    template: "#nb-orders",
    props: { merchant: { type: Object, required: true } },
    data() {
      return {
        filters: { status: null, paid: null, shipped: null, customer: "" },
        statusOptions: [
          { label: "Any", value: null },
          ...NB.orders.statuses.map((status) => ({
            label: NB.orders.label(status),
            value: status,
          })),
        ],
        yesNo: ANY_YES_NO,
        rows: [],
        loading: false,
        error: "",
        pagination: { page: 1, rowsPerPage: 10, rowsNumber: 0, sortBy: null },
        openId: null,
        restoring: false,
        restoreError: "",
        restoreSummary: null,
        restoreProgress: null,
        columns: [
          {
            name: "created",
            label: "Created",
            field: "created",
            align: "left",
          },
          { name: "id", label: "Order", field: "id", align: "left" },
          {
            name: "customer",
            label: "Customer",
            field: "customer",
            align: "left",
          },
          { name: "total", label: "Total", field: "total", align: "right" },
          { name: "status", label: "Status", field: "status", align: "left" },
        ],
      };
    },
    methods: {
      query(page, size) {
        const customer = this.filters.customer.trim();
        return NB.api.query({
          status: this.filters.status,
          paid: this.filters.paid,
          shipped: this.filters.shipped,
          pubkey: customer
            ? NB.format.publicKeyHex(customer) || customer
            : null,
          limit: size,
          offset: (page - 1) * size,
        });
      },
      async request(props) {
        const { page, rowsPerPage } =
          (props && props.pagination) || this.pagination;
        this.loading = true;
        this.error = "";
        try {
          const { rows, total } = NB.orders.rows(
            await NB.api.get(`/order${this.query(page, rowsPerPage)}`),
          );
          this.rows = rows.map((order) => this.row(order));
          const seen = (page - 1) * rowsPerPage + rows.length;
          const more = rows.length === rowsPerPage ? 1 : 0;
          this.pagination = {
            ...this.pagination,
            page,
            rowsPerPage,
            rowsNumber: total === null ? seen + more : total,
          };
        } catch (err) {
          this.error = err.message;
        } finally {
          this.loading = false;
        }
      },
      row(order) {
        return {
          id: order.id,
          created: NB.format.date(NB.orders.createdAt(order)),
          customer: NB.format.shortId(NB.format.npub(order.public_key), 10),
          total: NB.format.sats(NB.orders.satsOf(order, "total")),
          status: order.status,
        };
      },
      applyFilters() {
        this.request({ pagination: { ...this.pagination, page: 1 } });
      },
      async restoreAll() {
        this.restoreError = "";
        this.restoreSummary = null;
        this.restoreProgress = null;
        this.restoring = true;
        try {
          this.restoreSummary = (await NB.api.put("/orders/restore")) || {};
          this.request();
        } catch (err) {
          this.restoreError = err.message;
        } finally {
          this.restoring = false;
        }
      },
      onLive(event) {
        const { kind, data } = event.detail;
        if (kind === "restore") this.restoreProgress = data;
        if (["order", "payment", "status"].includes(kind)) this.request();
      },
    },
    mounted() {
      this.request();
      this.listener = (event) => this.onLive(event);
      NB.bus.addEventListener("live", this.listener);
    },
    unmounted() {
      NB.bus.removeEventListener("live", this.listener);
    },
  };
})();
