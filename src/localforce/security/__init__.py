"""Cryptographic building blocks: the master-key secret box, password hashing, token digests."""
