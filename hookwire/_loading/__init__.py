"""Plugin loading: discovery of entry points, the on-disk discovery cache, importing plugins,
their ready phase in ``requires`` order, configuration (allow/deny lists, autoload, strict) and
the registry that records the outcome. Private: the public names are re-exported by
:mod:`hookwire`."""
