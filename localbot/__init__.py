"""localbot: a neighbourhood bot for Telegram and WhatsApp groups, kept in one SQLite file."""

__version__ = "0.1.0"
