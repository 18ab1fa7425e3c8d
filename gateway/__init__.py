"""The mini-program analytics gateway: one GraphQL schema, Workspace -> TargetApp -> MiniProgram."""

__version__ = "0.1.0"
