"""pytest plugin for hosts and plugins built on hookwire (registered as ``pytest11``)."""
