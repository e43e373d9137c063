//! clawctl-router: the front door of a swarm. One long-running process per fleet that
//! takes people's chat messages (Slack over Socket Mode, or HTTP behind an
//! authenticating proxy), finds each sender's own agent in the fleet's routing table
//! (the `<fleet>-routes` ConfigMap clawctl renders), forwards the message to that
//! agent's OpenClaw gateway (its OpenAI-compatible chat endpoint, with the agent's own
//! token and a stable session per person and conversation), and answers in the same
//! conversation.
//!
//! Why a second binary in a crate of its own (DESIGN: "needs no component installed in
//! the cluster" holds for clawctl itself; the router is opt-in with
//! `spec.routing.router`): the CLI stays free of an HTTP server and a Slack client, the
//! router is built from the same repository and can use clawctl's library for the names
//! and the routing table's shape, and it ships as its own container image.
//!
//! Self-service (`/setup-agent`, `spec.routing.selfService`): `provision` makes an agent
//! with clawctl's own library (the crate depends on `clawctl` for exactly this: an agent
//! made on request must be what `clawctl apply` makes, so the router runs that code, not
//! a copy), and `claims` routes the agents made so (they are not in `routes.json`).
//!
//! Dependencies flow one way: `main` -> {`slack`, `http`} -> `dispatch` -> {`routes`,
//! `tokens`, `gateway`, `inbox`, `idle`} -> `message`. `config` (environment variables -> checked
//! settings) is read by `main`, which hands each part its share; `log` is a leaf every
//! module writes through.

pub mod claims;
pub mod config;
pub mod dispatch;
pub mod gateway;
pub mod http;
pub mod idle;
pub mod inbox;
pub mod log;
pub mod message;
pub mod provision;
pub mod routes;
pub mod slack;
pub mod tokens;
