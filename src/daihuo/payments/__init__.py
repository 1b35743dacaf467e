"""Payments: a provider interface, the built-in sandbox provider, the signed webhook
that marks orders paid or refunded, and refunds through the same provider."""
