"""Digit Lab Qt views."""
