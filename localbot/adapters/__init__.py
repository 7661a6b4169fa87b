"""Messenger adapters: thin translators between a messenger's traffic and the neutral events/replies."""
