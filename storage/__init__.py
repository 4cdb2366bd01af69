"""The database engines behind one interface: the seam where crud and services meet storage.

- `base`: `Database` and `Connection`, the interface every engine offers (units of
  work, reads, commit listeners), and the `Dialect` for what SQL cannot share;
- `engines`: `open_database` (SQLite unless `NOSTRBAZAAR_DATABASE_URL` names
  PostgreSQL) and the errors either engine raises (`IntegrityError`);
- `database`: the SQLite engine (one writer in place on the loop, one reader);
- `writer`: the SQLite writer connection, run in place on the event loop's thread;
- `group_commit`: SQLite units of work ready together share one commit;
- `postgres`, `pg_sql`: the PostgreSQL engine (asyncpg pool) and the translation of
  SQLite's spelling of our SQL;
- `keystore`: merchant private keys sealed at rest.
"""
