"""Live-room events: the JSON Lines contract of shared/spec/events.md, its model and parser."""
