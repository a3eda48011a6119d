"""Field data collection: one asyncio collector process running protocol adapters.

``points`` is the common batch type every adapter produces, ``adapter`` the base class and the
context an adapter talks to, ``sink`` turns points into stored readings (and dead letters),
``runtime`` supervises adapters with reconnect back-off and serves health and counters.
"""
