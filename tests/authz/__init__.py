"""Tests of gateway.authz (authentication and authorization)."""
