"""Discord glue: the client, the command tree, options, errors, checks, paging, console and rendering."""
