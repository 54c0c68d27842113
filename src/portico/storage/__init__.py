"""The one storage layer: SQLAlchemy models, async repositories, migrations, maintenance."""
