"""Results: output files (CSV, Parquet), gap and level tables, plots and the HTML report.

Internal: the public names are :mod:`parksim`'s (``report``).
"""
