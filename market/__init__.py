"""The message formats customers speak, one module per dialect.

Each dialect parses a customer's message into the domain's commands and renders
the domain's events back as replies in the same dialect. `nip15` is the NIP-15
format (JSON orders in direct messages) that nostrmarket's app speaks.
"""
