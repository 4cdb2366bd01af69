/* The dashboard inside LNbits: LNbits' page frame and its Vue app, our root component and
   components. The merchant is the chosen LNbits wallet's; its admin key is the API key. */
(function () {
  const WALLET = "nostrbazaar.wallet";
  const options = NB.dashboard.rootOptions();

  function wallets() {
    return (window.g && window.g.user && window.g.user.wallets) || [];
  }

  /** The wallet chosen before (this browser), else the account's first. */
  function chosenWallet() {
    const stored = localStorage.getItem(WALLET);
    return wallets().find((w) => w.id === stored) || wallets()[0] || null;
  }

  // LNbits made window.app already (base.html); ours replaces it before LNbits mounts it.
  window.app = Vue.createApp({
    ...options,
    mixins: [window.windowMixin || {}],
    data() {
      const wallet = chosenWallet();
      if (wallet) NB.api.setKey(wallet.adminkey);
      return {
        ...options.data.call(this),
        signedIn: Boolean(wallet),
        walletId: wallet ? wallet.id : null,
      };
    },
    computed: {
      ...options.computed,
      walletOptions() {
        return wallets().map((w) => ({ label: w.name, value: w.id }));
      },
    },
    watch: {
      ...options.watch,
      walletId(id) {
        const wallet = wallets().find((w) => w.id === id);
        if (!wallet) return;
        localStorage.setItem(WALLET, id);
        NB.api.setKey(wallet.adminkey);
        this.restart();
      },
    },
    methods: {
      ...options.methods,
      /** Another wallet: another merchant, another live connection. */
      restart() {
        if (this.connection) this.connection.stop();
        this.merchant = null;
        this.merchantLoaded = false;
        this.signedIn = true;
        this.start();
      },
    },
  });
  NB.dashboard.install(window.app);
})();
