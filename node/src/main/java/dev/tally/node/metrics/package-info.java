/**
 * The node's Prometheus metrics, in a registry of their own, updated by the replica loop and the network and served
 * over HTTP by whoever embeds the node.
 */
package dev.tally.node.metrics;
