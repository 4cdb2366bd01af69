/* The dashboard's websocket: authenticate with the key, re-connect with backoff. */
(function () {
  const MAX_DELAY = 30;

  class LiveConnection {
    /** `onEvent(message)` gets each notification; `onState(state)` each change. */
    constructor(key, onEvent, onState) {
      this.key = key;
      this.onEvent = onEvent;
      this.onState = onState;
      this.attempt = 0;
      this.closed = false;
      this.socket = null;
      this.timer = null;
    }

    start() {
      this.closed = false;
      this.connect();
    }

    stop() {
      this.closed = true;
      clearTimeout(this.timer);
      if (this.socket) this.socket.close();
      this.onState({ status: "stopped" });
    }

    /** Connect again now, instead of waiting for the next retry. */
    reconnect() {
      clearTimeout(this.timer);
      if (!this.socket) this.connect();
    }

    connect() {
      const scheme = location.protocol === "https:" ? "wss" : "ws";
      this.onState({ status: "connecting" });
      const socket = new WebSocket(
        `${scheme}://${location.host}${NB.api.base()}/api/v1/ws`,
      );
      this.socket = socket;
      socket.onopen = () => {
        socket.send(JSON.stringify({ api_key: this.key }));
        this.live = true;
        this.onState({ status: "live" });
      };
      socket.onmessage = (message) => this.receive(message.data);
      socket.onclose = (event) => this.lost(event);
    }

    receive(text) {
      let message;
      try {
        message = JSON.parse(text);
      } catch {
        return;
      }
      this.attempt = 0;
      this.onEvent(message);
    }

    lost(event) {
      this.live = false;
      this.socket = null;
      if (this.closed) return;
      if (event.code === 4401 || event.code === 1008) {
        this.onState({
          status: "refused",
          reason: event.reason || "key refused",
        });
        return;
      }
      if (event.code === 4404) {
        this.onState({
          status: "waiting",
          retryIn: 5,
          reason: "no merchant yet",
        });
        this.timer = setTimeout(() => this.connect(), 5000);
        return;
      }
      this.attempt += 1;
      const delay = Math.min(MAX_DELAY, 2 ** Math.min(this.attempt, 5));
      this.onState({ status: "offline", retryIn: delay, reason: event.reason });
      this.timer = setTimeout(() => this.connect(), delay * 1000);
    }
  }

  window.NB = Object.assign(window.NB || {}, { LiveConnection });
})();
