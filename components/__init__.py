"""Custom Rasa NLU components (spaCy lemmas, lexicon entities, red flags)."""
