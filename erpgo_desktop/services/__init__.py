"""One unit of work per user action; each method owns its session and transaction."""
