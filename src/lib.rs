//! GoStore: an in-memory data store that speaks the Redis protocol.
