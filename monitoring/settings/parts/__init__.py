"""Settings parts owned by separate concerns; star-imported at the end of base.py."""
