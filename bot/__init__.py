"""Peninsula Brief: a Discord bot that briefs a server on North Korea's nuclear and missile programs."""

__version__ = "0.1.0"
