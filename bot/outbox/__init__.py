"""The alert outbox: rows written with the event, claimed, paced and sent to Discord by one worker."""
