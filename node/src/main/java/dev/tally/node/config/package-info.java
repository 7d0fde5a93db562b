/**
 * A node's settings and their JSON forms: {@link dev.tally.node.config.NodeConfig} (the node config) and
 * {@link dev.tally.node.config.GenesisJson} (a genesis file), read strictly so that a
 * {@link dev.tally.node.config.ConfigException} names the field at fault.
 *
 * <p>Used by the executor to start a node, and by the command line and the testbed to write and read configs; it
 * depends only on crypto, protocol and storage's execution types, never on the rest of the node.
 */
package dev.tally.node.config;
