"""The database engine behind one interface: the seam where other engines plug in.

- `database`: `Database`, the SQLite connections (one writer, one reader) and
  `transaction()`, the unit of work every state change runs in;
- `writer`: the writer connection, run in place on the event loop's thread;
- `group_commit`: units of work ready together share one commit;
- `keystore`: merchant private keys sealed at rest.
"""
