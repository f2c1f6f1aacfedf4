"""A sourced FAQ bot on North Korea's human-rights record and the Trump–Kim summits."""
