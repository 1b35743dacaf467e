"""Live sessions: a merchant schedules a session and arranges its product list from its
showcase. The live room itself (gateway, comments, flash sales) builds on this."""
