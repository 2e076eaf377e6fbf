"""Shipped regulatory parameter sets, kept as versioned data files (rules are data).

* ``irrbb/`` -- IRRBB standardised interest rate shock sizes (YAML, one file per dated set),
  read by :class:`openalm.market.shocks.ShockSet`.
"""
