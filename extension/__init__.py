"""The LNbits host: nostrbazaar run by LNbits as an installed extension.

- `entry`: what LNbits reads from the package (the root `__init__` hands it out):
  `db`, `nostrbazaar_ext`, `nostrbazaar_static_files`, `nostrbazaar_start`, `nostrbazaar_stop`;
- `host`: the runtime under LNbits (settings, the database file LNbits keeps for the
  extension, LNbits' wallets, the relays), started and stopped with the extension;
- `auth`: LNbits' wallet keys in place of our accounts' keys;
- `pages`: the dashboard inside LNbits' page frame, and the public market.

Only imported inside LNbits: it imports `lnbits`. Everything below it is the same code
the standalone app runs.
"""
