"""Tests for fueldash/models."""
