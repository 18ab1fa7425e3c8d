"""Tests of gateway.metrics."""
