"""Discord-free services. They take a sessionmaker, return plain dataclasses and never import discord."""
