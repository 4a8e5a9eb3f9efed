"""Shared fixtures. Integration tests use ``stack_settings``: the real local stack, brought up
once per test session and stopped at its end."""
