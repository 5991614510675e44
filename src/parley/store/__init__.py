"""Persistence: the unit-of-work stores behind the domain's `Repo` port."""
