"""Database access: engine, typed models, embedded server, migrations, queries."""
