"""How places, models and customers are named: the place catalog, lookalike characters, name keys.

Rules and questions share this vocabulary, so it sits below both."""
