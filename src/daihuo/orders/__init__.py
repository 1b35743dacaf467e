"""Orders: one product line each, stock reserved at creation, a checked state machine,
a recorded history, an outbox of order events, and the sweeper of unpaid reservations."""
