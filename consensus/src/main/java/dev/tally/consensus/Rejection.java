package dev.tally.consensus;

import dev.tally.crypto.BlsPublicKey;
import dev.tally.protocol.BlockHeader;
import dev.tally.protocol.Phase;
import dev.tally.protocol.View;

/**
 * Why the replica refused a message, or a payload: one record per rule of PROTOCOL.md section 4 that it enforces.
 * {@link #reason()} is a stable short name (a metrics label); {@link #message()} says it for logs, with the figures.
 */
public sealed interface Rejection {
    /** A stable short name for this kind of rejection, e.g. {@code not_leader}. */
    default String reason() {
        return switch (this) {
            case ForeignView r -> "foreign_view";
            case OldView r -> "old_view";
            case NotInPrepare r -> "not_in_prepare";
            case DuplicateProposal r -> "duplicate_proposal";
            case NotLeader r -> "not_leader";
            case NotValidator r -> "not_validator";
            case BadSignature r -> "bad_signature";
            case NotNewer r -> "not_newer";
            case InvalidVote r -> "invalid_vote";
            case BadJustification r -> "bad_justification";
            case NothingNew r -> "nothing_new";
            case Pruned r -> "pruned";
            case PayloadMissing r -> "payload_missing";
            case PayloadInReproposal r -> "payload_in_reproposal";
            case PayloadTooLarge r -> "payload_too_large";
            case PayloadRefused r -> "payload_refused";
        };
    }

    /** What is wrong, in the protocol's words and with the figures (for logs). */
    default String message() {
        return switch (this) {
            case ForeignView(View v, String problem) -> problem;
            case OldView(long v, long current) -> "for view " + v + ", older than the replica's view " + current;
            case NotInPrepare(long v, Phase phase) ->
                "proposal for the current view " + v + ", where the replica is already in phase " + phase;
            case DuplicateProposal(long v) -> "a copy of the proposal of view " + v + " already being checked";
            case NotLeader(long v, BlsPublicKey signer, BlsPublicKey leader) ->
                "from " + signer + ", but the leader of view " + v + " is " + leader;
            case NotValidator(BlsPublicKey signer, long epoch) ->
                "signed by " + signer + ", not a validator of epoch " + epoch;
            case BadSignature(BlsPublicKey signer) -> "bad signature from " + signer;
            case NotNewer(BlsPublicKey signer, long v) ->
                "vote for view " + v + " from " + signer + " is not newer than its last one";
            case InvalidVote(String problem) -> problem;
            case BadJustification(String problem) -> "justification: " + problem;
            case NothingNew(long v) ->
                "new-view message for the current view " + v + " brings no QC above the replica's";
            case Pruned(long block, long firstStored) ->
                "proposal for block " + block + ", already pruned below " + firstStored;
            case PayloadMissing(long block) ->
                "proposal has no payload where its justification requires a new block " + block;
            case PayloadInReproposal(BlockHeader header) ->
                "proposal carries a payload where its justification requires a reproposal of " + header;
            case PayloadTooLarge(long block, int size, int max) ->
                "payload of block " + block + " has " + size + " bytes, above max_payload_size " + max;
            case PayloadRefused(long block, String refusal) ->
                "execution layer refused the payload of block " + block + ": " + refusal;
        };
    }

    /** The message's view is of another chain or epoch ({@code problem} says which). */
    record ForeignView(View view, String problem) implements Rejection {}

    /** The message is for a view before the replica's. */
    record OldView(long view, long currentView) implements Rejection {}

    /** A proposal for the current view after the replica voted or timed out in it. */
    record NotInPrepare(long view, Phase phase) implements Rejection {}

    /** The proposal the replica is already checking, again. */
    record DuplicateProposal(long view) implements Rejection {}

    /** A proposal, or a new-view message for the current view, from a validator that does not lead the view. */
    record NotLeader(long view, BlsPublicKey signer, BlsPublicKey leader) implements Rejection {}

    /** Signed by a key outside the committee of the replica's epoch. */
    record NotValidator(BlsPublicKey signer, long epoch) implements Rejection {}

    /** The signature is not the signer's. */
    record BadSignature(BlsPublicKey signer) implements Rejection {}

    /** A vote of a view this signer already voted in, or of one before its last vote. */
    record NotNewer(BlsPublicKey signer, long view) implements Rejection {}

    /** A vote whose content breaks a rule ({@code problem} says which): its block, high vote or high QC. */
    record InvalidVote(String problem) implements Rejection {}

    /** The justification of a proposal or new-view message does not verify ({@code problem} says why). */
    record BadJustification(String problem) implements Rejection {}

    /** The leader's new-view message for the current view, with no QC above the replica's: nothing to take in. */
    record NothingNew(long view) implements Rejection {}

    /** A proposal for a block below the first one still in storage. */
    record Pruned(long blockNumber, long firstStored) implements Rejection {}

    /** A proposal without payload where its justification implies a new block. */
    record PayloadMissing(long blockNumber) implements Rejection {}

    /** A proposal with a payload where its justification implies a reproposal (named by its header alone). */
    record PayloadInReproposal(BlockHeader reproposal) implements Rejection {}

    /** A payload above {@code max_payload_size}: in a leader's proposal, or the execution layer's for this leader. */
    record PayloadTooLarge(long blockNumber, int size, int maxPayloadSize) implements Rejection {}

    /** The execution layer refused the proposal's payload ({@code refusal} is its reason). */
    record PayloadRefused(long blockNumber, String refusal) implements Rejection {}
}
