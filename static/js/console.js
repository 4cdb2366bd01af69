/* The operator's console helpers: downloads that send the key, debounced reloads, durations. */
(function () {
  /** Fetch `path` with the key and save the answer as `name` (a link cannot send a header). */
  async function download(path, name) {
    let response;
    try {
      response = await fetch(`${NB.api.base()}/api/v1${path}`, {
        headers: { "X-Api-Key": NB.api.getKey() },
      });
    } catch {
      throw new NB.ApiError(0, "Cannot reach the server: is it running?");
    }
    if (!response.ok) {
      let detail = "";
      try {
        detail = (await response.json()).detail;
      } catch {
        detail = "";
      }
      throw new NB.ApiError(
        response.status,
        typeof detail === "string" && detail
          ? detail
          : `The server answered with status ${response.status}.`,
      );
    }
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement("a");
    link.href = url;
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 30000);
  }

  /** `fn` at most once per `ms`, after the calls stop coming. */
  function debounce(fn, ms) {
    let timer = null;
    return (...args) => {
      clearTimeout(timer);
      timer = setTimeout(() => fn(...args), ms);
    };
  }

  /** Seconds as a short duration: "45 s", "12 min", "3.5 h", "2.1 days". */
  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    const value = Number(seconds);
    if (value < 60) return `${Math.round(value)} s`;
    if (value < 3600) return `${Math.round(value / 60)} min`;
    if (value < 86400) return `${(value / 3600).toFixed(1)} h`;
    return `${(value / 86400).toFixed(1)} days`;
  }

  /** The Unix time of local midnight starting "YYYY-MM-DD" (a date input's value). */
  function dayStart(text) {
    if (!text) return null;
    const [year, month, day] = text.split("-").map(Number);
    return Math.floor(new Date(year, month - 1, day).getTime() / 1000);
  }

  /** A file name stamp: 2026-12-07. */
  function today() {
    return new Date().toISOString().slice(0, 10);
  }

  window.NB = Object.assign(window.NB || {}, {
    ops: { download, debounce, duration, dayStart, today },
  });
})();
