"""Liquidity risk: maturity ladders and gaps, LCR, NSFR, the Chinese ratios, concentration,
stress tests and survival horizon, and the liquidity regulatory returns (G21 G22 G23 G24 G25 G26).

Every measure is a function of the per-contract liquidity frame (:mod:`.frame`: positions,
counterparties and the engine's per-contract cash flows by liquidity band) and of versioned rule
tables (:mod:`.rules`, ``openalm/rules/liquidity/<rule_set>/*.yaml``).
"""
