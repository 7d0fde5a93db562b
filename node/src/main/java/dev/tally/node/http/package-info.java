/**
 * The HTTP server under the node's endpoints ({@link dev.tally.node.http.HttpTransport}): read and idle timeouts, a
 * connection cap, request limits answered with their HTTP codes, and errors that carry no internals. The RPC, the
 * metrics and the debug page all use it; {@link dev.tally.node.http.ReadOnlyPages} is the handler of the endpoints
 * that only read.
 *
 * <p>Depends on the node's config (the limits) only, so that every endpoint's package may use it.
 */
package dev.tally.node.http;
