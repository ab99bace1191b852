"""Clearance: storage package."""
