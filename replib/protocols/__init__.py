"""Protocols built on replib's Node: one module per protocol."""
