"""The RV64IMA core with its Sv39 MMU (Amaranth 0.5)."""
