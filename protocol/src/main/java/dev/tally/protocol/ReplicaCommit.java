package dev.tally.protocol;

/** A commit vote: "in this view, I vote to finalize this block". */
public record ReplicaCommit(View view, BlockHeader proposal) implements ChonkyMessage {
    public void verify(Epoch epoch) throws InvalidMessageException {
        view.verify(epoch);
        InvalidMessageException.check(
                proposal.number() >= epoch.firstBlock(),
                "vote for block " + proposal.number() + " below the first block " + epoch.firstBlock());
    }

    @Override
    public String toString() {
        return "ReplicaCommit(" + view + ", " + proposal + ")";
    }
}
