"""The pure order domain: no I/O, and no imports from the rest of nostrbazaar.

- `machine`: `decide(state, command) -> events`, `apply(state, event) -> state`, and
  `TRANSITIONS`, the one definition of the allowed status changes;
- `commands` (imperative), `events` (past tense), `state` (frozen values), `errors`;
- `pricing` and `rates`: an order checked against the catalogue and priced in msat;
- `trace`: the status path an order's events walk through.
"""
