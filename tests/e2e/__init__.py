"""End-to-end tests: real discord.py against the local fake Discord (``fake_discord``)."""
