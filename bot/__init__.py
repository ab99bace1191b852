"""Clearance: bot package."""
