package dev.tally.storage;

import dev.tally.protocol.Codec;
import dev.tally.protocol.DecodeException;
import dev.tally.protocol.FinalBlock;
import dev.tally.protocol.GenesisHash;
import java.util.Collections;
import java.util.NavigableSet;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The integrity of stored blocks: the checks every block read passes, and the blocks a read found corrupt until a
 * good copy repairs them. A corrupt block is reported once (an ERROR naming the block and where it lies), then
 * answered as absent, so that nobody is served damaged bytes; block sync fetches it again from peers.
 *
 * <p>The checks are those that cost nothing next to the read: the record decodes, it holds the block of its key,
 * its payload hashes to the one its commit QC certifies, and the QC is of this chain. The QC's aggregate signature
 * is not checked: a pairing check per read would cost more than the read itself, and every byte on disk is already
 * covered by RocksDB's block checksums, which reads verify; these checks catch what those cannot see (a record
 * damaged before it was written).
 */
final class BlockIntegrity {
    private static final Logger log = LoggerFactory.getLogger(BlockIntegrity.class);

    /** A stored record that is not the block its key names; the message says what is wrong. */
    static final class CorruptRecordException extends Exception {
        private static final long serialVersionUID = 1L;

        CorruptRecordException(String message) {
            super(message);
        }
    }

    private final String where;
    private final NavigableSet<Long> corrupt = new ConcurrentSkipListSet<>();
    private final AtomicLong found = new AtomicLong();

    /** @param where names the store in log lines (its path) */
    BlockIntegrity(String where) {
        this.where = where;
    }

    /**
     * The block stored as {@code value} under block number {@code number}, once it passed the read checks.
     *
     * @throws CorruptRecordException naming what is wrong with it
     */
    static FinalBlock check(long number, byte[] value, GenesisHash genesis) throws CorruptRecordException {
        FinalBlock block;
        try {
            block = Codec.decodeFinalBlock(value);
        } catch (DecodeException e) {
            throw new CorruptRecordException("cannot be decoded: " + e.getMessage());
        }
        if (block.number() != number) {
            throw new CorruptRecordException("holds block " + block.number() + " under the key of block " + number);
        }
        String problem = structureProblem(block, genesis);
        if (problem != null) {
            throw new CorruptRecordException(problem);
        }
        return block;
    }

    /**
     * What is wrong with a block that needs no committee to see, null when nothing: its payload must be the one its
     * commit QC certifies, and the QC of this chain.
     */
    static String structureProblem(FinalBlock block, GenesisHash genesis) {
        if (!block.payload().hash().equals(block.header().payload())) {
            return "its payload hash " + block.payload().hash() + " does not match the hash "
                    + block.header().payload() + " in its commit QC header";
        }
        if (!block.justification().view().genesis().equals(genesis)) {
            return "its commit QC is for " + block.justification().view().genesis() + ", this store holds " + genesis;
        }
        return null;
    }

    /** Records block {@code number} as corrupt; logs it the first time. */
    void reportCorrupt(long number, String what, String file) {
        if (corrupt.add(number)) {
            found.incrementAndGet();
            log.error(
                    "Corrupt block {} in {}: {} (in {}). It is served to no one until block sync stores a good copy"
                            + " from a peer",
                    number,
                    where,
                    what,
                    file);
        }
    }

    boolean isCorrupt(long number) {
        return corrupt.contains(number);
    }

    /** Block {@code number} has a good copy again. */
    void repaired(long number) {
        if (corrupt.remove(number)) {
            log.info("Block {} in {} repaired with a copy from a peer", number, where);
        }
    }

    /** The blocks found corrupt and not repaired yet, in order (a read-only view). */
    NavigableSet<Long> corrupt() {
        return Collections.unmodifiableNavigableSet(corrupt);
    }

    /** Below {@code first}: pruned, no longer anyone's concern. */
    void forgetBelow(long first) {
        corrupt.headSet(first).clear();
    }

    long found() {
        return found.get();
    }
}
