"""The org's directory: orgs, profiles, permission sets, users and connected apps.

``ports.py`` is the storage it needs, ``service.py`` the rules for changing it (hashing,
sealing, generating keys), ``seed.py`` the declarative seed file.
"""
