"""The one renderer: service results in, Discord embeds and message payloads out, always within limits.

Every limit of DESIGN.md ("Discord limits that rendering must respect") is enforced here, so a long
summary or a large list is shortened with a visible "…" instead of a 400 from Discord. Nothing here
touches the database; the cogs and ``bot.discord.paging`` call the services and hand the results to
these functions. One module per subject:

* ``text`` — the limits, ``truncate``, ``join_lines``, links and escaping;
* ``embeds`` — ``EmbedBuilder`` and the fit of several embeds in one message;
* ``reply`` — ``Reply`` (what a command answers, to Discord and the console) and ``Who``;
* ``choices`` — autocomplete answers;
* ``kinds`` — the label and colour of each kind of event;
* ``events``, ``catalog``, ``briefing``, ``pages``, ``subscriptions``, ``audit`` — the records and
  replies of each command family.
"""
