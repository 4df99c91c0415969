"""Scoring with the Twitter-GMNER protocol (../shared/METHOD.md), behind `main.py eval`.

predictions.py reads `analyze` output line by line; masks.py defines the gold mask folder for
SMNER; scoring.py matches predictions to gold one-to-one and sums micro P/R/F1.
"""
