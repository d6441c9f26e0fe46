"""Tests for fueldash/dashapp."""
