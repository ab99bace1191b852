"""Clearance: handlers package."""
