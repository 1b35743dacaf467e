"""Daihuo (带货): an open-source S2B live-commerce platform."""

__version__ = "0.1.0"
