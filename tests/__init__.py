"""Tests for fueldash."""
