"""Energy engines (pure): time-of-use classification; GB/T 2589 accounting comes with the energy issue."""
