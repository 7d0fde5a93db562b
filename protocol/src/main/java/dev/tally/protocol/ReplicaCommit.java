package dev.tally.protocol;

/** A commit vote: "in this view, I vote to finalize this block". */
public record ReplicaCommit(View view, BlockHeader proposal) implements ChonkyMessage {
    @Override
    public String toString() {
        return "ReplicaCommit(" + view + ", " + proposal + ")";
    }
}
