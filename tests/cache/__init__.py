"""Tests of gateway.cache."""
