"""Data-quality rule catalogue (``rules.yaml``), read by :mod:`openalm.data.quality_rules`."""
