"""cservice-audit: audit customer-service chat exports against platform rules."""

__version__ = "0.1.0"
