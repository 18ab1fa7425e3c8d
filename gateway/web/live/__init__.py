"""Live subscriptions over WebSocket (``graphql-transport-ws``): plans, shared evaluations,
the hub that pushes them after every snapshot, and the protocol handler."""
