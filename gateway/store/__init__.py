"""Persistence: tables, migrations, ingestion. Never imports strawberry."""
