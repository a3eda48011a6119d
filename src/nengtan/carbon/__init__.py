"""Carbon accounting engines (pure: plain data in, plain results out, no I/O).

* :mod:`nengtan.carbon.cems` — hourly CO2 mass from continuous emission monitoring data
  (measurement method, 实测法).
"""
