"""The Rasa server as this project runs it: `python -m server`.

It is `rasa run` plus the few changes this product needs, each documented
where it is made: a faster graph runner and action client (patches.py).
"""
