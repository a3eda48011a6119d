"""Data quality: reading quality codes, interval flags, cumulative→interval normalisation."""
