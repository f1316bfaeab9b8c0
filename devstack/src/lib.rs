//! Local API Gateway HTTP API v2 + Lambda Runtime API emulation.
