"""Discord-facing extensions: thin cogs that parse an interaction, call a service and render."""
