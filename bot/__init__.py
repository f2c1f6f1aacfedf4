"""A sourced FAQ bot on North Korea's human-rights record and the Trump–Kim summits.

engine/ answers (plain Python), telegram/ and cli/ are its front ends, storage/ keeps state;
tests/test_layout.py holds the import rules between them."""
