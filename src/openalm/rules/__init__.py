"""Shipped regulatory parameter sets, kept as versioned data files (rules are data).

* ``irrbb/`` -- IRRBB standardised interest rate shock sizes (YAML, one file per dated set),
  read by :class:`openalm.market.shocks.ShockSet`.
* ``data_quality/`` -- the data-quality rule catalogue (``rules.yaml``: id, reason, tables,
  severity, adjustable, positions.md source, zh/en description), read by
  :mod:`openalm.data.quality_rules`.
"""
