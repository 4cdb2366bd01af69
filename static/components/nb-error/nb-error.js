/* A readable error shown next to the form or button that caused it. */
NB.components["nb-error"] = {
  template: "#nb-error",
  props: { message: { type: String, default: "" } },
};
