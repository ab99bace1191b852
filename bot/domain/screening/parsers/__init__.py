"""Parsers for restricted-party list files: pure functions from bytes to a `ParsedList`.

Which parser reads which list kind is the source-kind registry's (`bot.domain.tracking.kinds`).
"""
