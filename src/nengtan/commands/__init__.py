"""Command groups of the ``nengtan`` CLI, one module per capability (registered in ``cli``)."""
