"""Nostr protocol: events, keys, NIP-19/04/44/59/17, filters, relay pool.

Knows nothing of orders.
"""
