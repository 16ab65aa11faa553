"""Texts customers from a worker: a remote receiver (``hookwire.remote``) of the pizzeria."""
