"""The action server: answers composed from the facts file.

Modules: facts_schema/facts_store (the facts, no Rasa), resolver (what was
asked), composer (the reply), contract (the machine-readable message),
answer_action (the Rasa SDK action), runtime (loaded once), server (entry point).
"""
