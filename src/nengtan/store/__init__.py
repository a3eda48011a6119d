"""Storage: models, migrations, bulk readings I/O."""
