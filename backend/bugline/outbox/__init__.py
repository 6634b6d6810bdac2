"""The outbox: deliveries to connectors, written with the decision and sent by workers."""
