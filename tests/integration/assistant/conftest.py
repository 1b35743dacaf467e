"""The live-room fixtures (a real server on the in-process bus or Redis) for the assistant."""

from tests.integration.live.conftest import bus, env, room_db, room_settings  # noqa: F401
