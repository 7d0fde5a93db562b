package dev.tally.network;

import dev.tally.crypto.BlsPublicKey;
import dev.tally.crypto.BlsSecretKey;
import dev.tally.protocol.InvalidMessageException;
import dev.tally.protocol.ValidatorSchedule;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * What this node knows of where the committee's validators accept consensus connections: one signed announcement
 * per validator, the newest (by version, then timestamp) winning. Filled by the validators' own announcements,
 * spread over gossip. Entries of non-validators are ignored. Thread-safe; listeners hear every accepted change.
 */
public final class ValidatorAddressBook {
    private volatile List<ValidatorSchedule> committees;
    private final Map<BlsPublicKey, SignedNetAddress> entries = new HashMap<>();
    private final CopyOnWriteArrayList<Consumer<SignedNetAddress>> listeners = new CopyOnWriteArrayList<>();
    // Waiting for a change parks on a lock's condition (ChangeSignal), not in Object.wait: a gossip thread waiting in
    // the book's monitor was seen pinning its carrier for up to a second ("Native or VM frame on stack", JFR
    // jdk.VirtualThreadPinned), which in one JVM of several nodes took a carrier from all their virtual threads.
    // Signalled inside the book's monitor, never waited on there.
    private final ChangeSignal changed = new ChangeSignal();

    public ValidatorAddressBook(ValidatorSchedule committee) {
        this.committees = List.of(committee);
    }

    /** Accepts announcements of the members of these committees from now on (e.g. the current and the next one). */
    public void setCommittees(List<ValidatorSchedule> committees) {
        this.committees = List.copyOf(committees);
    }

    /** Whether announcements of this validator are accepted. */
    public boolean isMember(BlsPublicKey key) {
        return committees.stream().anyMatch(c -> c.contains(key));
    }

    public synchronized Optional<SignedNetAddress> get(BlsPublicKey key) {
        return Optional.ofNullable(entries.get(key));
    }

    /** How many validators' addresses the book holds (this node's own included). */
    public synchronized int size() {
        return entries.size();
    }

    public synchronized Map<BlsPublicKey, SignedNetAddress> snapshot() {
        return Map.copyOf(entries);
    }

    /** Called (on the updating thread) for every announcement accepted into the book. */
    public void addListener(Consumer<SignedNetAddress> listener) {
        listeners.add(listener);
    }

    /** Signs and records this validator's own address, with a version above any known one. */
    public SignedNetAddress announce(BlsSecretKey key, InetSocketAddress address) {
        SignedNetAddress a;
        synchronized (this) {
            SignedNetAddress old = entries.get(key.publicKey());
            long version = Math.max(System.currentTimeMillis(), old == null ? 0 : old.version() + 1);
            a = SignedNetAddress.sign(key, address, version, Instant.now());
            entries.put(key.publicKey(), a);
            changed.signal();
        }
        listeners.forEach(l -> l.accept(a));
        return a;
    }

    /**
     * Merges announcements from a peer. Verifies the signatures of those newer than what the book holds (only those:
     * verification is the expensive part), together, with {@code check}: gossip hands the node's {@link
     * SignatureBatcher}, so that they join the batches of the handshakes checked at the same moment. Returns how many
     * were accepted.
     *
     * @throws InvalidMessageException if the batch names a validator twice or carries a bad signature (the peer
     *     that sent it is misbehaving); entries before the bad one are accepted all the same.
     */
    int update(List<SignedNetAddress> batch, SignatureCheck check)
            throws InvalidMessageException, InterruptedException {
        Set<BlsPublicKey> seen = new HashSet<>();
        List<SignedNetAddress> fresh = new ArrayList<>();
        InvalidMessageException fault = null;
        for (SignedNetAddress a : batch) {
            if (!seen.add(a.key())) {
                fault = new InvalidMessageException("address batch names " + a.key() + " twice");
                break;
            }
            if (isMember(a.key()) && isNew(a)) {
                fresh.add(a);
            }
        }
        boolean[] valid = SignedNetAddress.verifySignatures(fresh, check);
        for (int i = 0; i < valid.length; i++) {
            if (!valid[i]) {
                // Those before the first bad one are accepted, as checking one by one would have.
                fault = new InvalidMessageException(
                        "bad signature on the address of " + fresh.get(i).key());
                fresh = fresh.subList(0, i);
                break;
            }
        }
        List<SignedNetAddress> accepted = new ArrayList<>();
        synchronized (this) {
            for (SignedNetAddress a : fresh) {
                if (isNew(a)) {
                    entries.put(a.key(), a);
                    accepted.add(a);
                }
            }
            if (!accepted.isEmpty()) {
                changed.signal();
            }
        }
        accepted.forEach(a -> listeners.forEach(l -> l.accept(a)));
        if (fault != null) {
            throw fault;
        }
        return accepted.size();
    }

    /** Whether {@code a} is newer than what the book holds for its validator (or the book holds none). */
    private synchronized boolean isNew(SignedNetAddress a) {
        SignedNetAddress old = entries.get(a.key());
        return old == null || a.isNewerThan(old);
    }

    /** Entries newer than (or absent from) {@code sent}: what a peer that was sent {@code sent} has not seen. */
    public synchronized List<SignedNetAddress> newerThan(Map<BlsPublicKey, SignedNetAddress> sent) {
        List<SignedNetAddress> out = new ArrayList<>();
        for (SignedNetAddress a : entries.values()) {
            SignedNetAddress s = sent.get(a.key());
            if (s == null || a.isNewerThan(s)) {
                out.add(a);
            }
        }
        return out;
    }

    /** A counter of accepted changes. */
    public long changes() {
        return changed.changes();
    }

    /** Waits until {@link #changes()} exceeds {@code since}, at most {@code timeout}. */
    public void awaitChange(long since, Duration timeout) throws InterruptedException {
        changed.awaitChange(since, timeout);
    }
}
