"""Storage on SQLAlchemy 2.x Core: SQLite for the embedded default, PostgreSQL in production."""
