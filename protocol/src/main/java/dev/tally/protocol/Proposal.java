package dev.tally.protocol;

/** A payload a replica has accepted for a block number, kept until the block is final. */
public record Proposal(long number, Payload payload) {}
