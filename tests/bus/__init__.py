"""Tests of the bus adapters: one suite over the memory bus and Redis."""
