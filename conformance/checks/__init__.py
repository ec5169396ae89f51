"""The checks, one module per family (``registry.FAMILIES`` lists them; ``registry.checks()`` collects them)."""
