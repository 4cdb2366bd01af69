/* The REST API client: one fetch wrapper whose errors read as sentences. */
(function () {
  const KEY_NAME = "nostrbazaar.adminkey";

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.name = "ApiError";
      this.status = status;
    }
  }

  const STATUS_TEXT = {
    400: "The server could not use this request.",
    401: "The server refused this key: check that you pasted the whole admin key.",
    403: "This key may not do that (an invoice key can only read).",
    404: "Not found: it may have been deleted.",
    409: "This conflicts with the current state; reload and try again.",
    422: "Some fields are not valid.",
  };

  function fieldName(loc) {
    return (loc || []).filter((part) => part !== "body").join(".");
  }

  /** Turn FastAPI's `detail` (a string or a list of field errors) into one sentence. */
  function describe(detail, status) {
    if (typeof detail === "string" && detail) return detail;
    if (Array.isArray(detail)) {
      return detail
        .map((item) => {
          const where = fieldName(item.loc);
          return where ? `${where}: ${item.msg}` : item.msg;
        })
        .join("\n");
    }
    if (detail && typeof detail === "object") {
      return detail.message || JSON.stringify(detail);
    }
    return STATUS_TEXT[status] || `The server answered with status ${status}.`;
  }

  function parse(text) {
    if (!text) return null;
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }

  async function request(method, path, body, key) {
    const headers = { Accept: "application/json" };
    const apiKey = key === undefined ? getKey() : key;
    if (apiKey) headers["X-Api-Key"] = apiKey;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(`${base()}/api/v1${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, "Cannot reach the server: is it running?");
    }
    const data = parse(await response.text());
    if (!response.ok) {
      const detail = data && typeof data === "object" ? data.detail : data;
      throw new ApiError(response.status, describe(detail, response.status));
    }
    // A list that was counted (GET /order?total=true) carries the count along.
    const total = response.headers.get("X-Total-Count");
    if (Array.isArray(data) && total !== null) data.total = Number(total);
    return data;
  }

  /** The path the app is served under: "" standalone, "/nostrbazaar" inside LNbits. */
  function base() {
    return (window.NB && NB.config && NB.config.base) || "";
  }

  function getKey() {
    return sessionStorage.getItem(KEY_NAME) || "";
  }

  function setKey(key) {
    sessionStorage.setItem(KEY_NAME, key);
  }

  function clearKey() {
    sessionStorage.removeItem(KEY_NAME);
  }

  /** Build a query string from the defined, non-empty values of `params`. */
  function query(params) {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) {
      if (value !== undefined && value !== null && value !== "") {
        search.set(name, String(value));
      }
    }
    const text = search.toString();
    return text ? `?${text}` : "";
  }

  /**
   * A tagged template for API paths: each interpolated value is encoded as one path
   * segment, so an id holding `/`, `?`, `#` or `%` can never name another route.
   * path`/order/${id}/cancel` -> "/order/a%2Fb/cancel".
   */
  function path(strings, ...values) {
    return strings.reduce(
      (out, text, index) =>
        out +
        text +
        (index < values.length
          ? encodeURIComponent(String(values[index]))
          : ""),
      "",
    );
  }

  window.NB = Object.assign(window.NB || {}, {
    ApiError,
    api: {
      request,
      base,
      query,
      path,
      getKey,
      setKey,
      clearKey,
      get: (path, key) => request("GET", path, undefined, key),
      post: (path, body) => request("POST", path, body ?? {}),
      put: (path, body) => request("PUT", path, body),
      patch: (path, body) => request("PATCH", path, body ?? {}),
      del: (path) => request("DELETE", path),
    },
  });
})();
