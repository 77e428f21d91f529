"""The live store service: the engine behind MQTT, HTTP, a durable log, a ledger and staff screens.

See docs/service-design.md for how the parts fit.
"""
