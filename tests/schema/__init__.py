"""Tests of gateway.schema."""
