"""The running process: it drives the services and knows nothing of HTTP.

- `runtime`: builds the database, keys, wallet, relay pool and engine from settings;
- `background`: ingest workers, the outbox publisher, expiry sweeper, settlements;
- `ingest`: a relay event verified, recorded in the inbox, decrypted, dispatched;
- `publisher`: the outbox signed events, published and retried until acknowledged;
- `restore`: orders rebuilt from the direct-message history on the relays;
- `embedded_relay`: the relay `make run` starts when none is configured.
"""
