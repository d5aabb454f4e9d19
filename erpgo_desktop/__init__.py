"""ERPGo Desktop: a back-office desktop application over PostgreSQL."""

__version__ = "0.1.0"
APP_NAME = "erpgo-desktop"
